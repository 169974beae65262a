"""A mergeable latency sketch: quantiles within 1% relative error from a few hundred counters, however many
latencies it holds (the DDSketch idea: logarithmic buckets of width gamma = (1 + a) / (1 - a)).

Per-minute sketches are stored as JSON and merged by adding their counters, so the p99 of a day is computed
from the day's minutes without keeping a single latency.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

RELATIVE_ACCURACY = 0.01
MIN_MS = 1e-3
"""Latencies below a microsecond are counted in one bucket of their own (reported as 0)."""


class LatencySketch:
    """Counts of latencies (milliseconds) in logarithmic buckets; `quantile` answers within 1% relative."""

    gamma = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
    _log_gamma = math.log(gamma)

    def __init__(self) -> None:
        self.bins: dict[int, int] = {}
        self.zero = 0
        self.count = 0

    def add(self, ms: float, count: int = 1) -> None:
        """Count a latency (milliseconds; negative values count as 0)."""
        if ms <= MIN_MS:
            self.zero += count
        else:
            key = math.ceil(math.log(ms) / self._log_gamma)
            self.bins[key] = self.bins.get(key, 0) + count
        self.count += count

    def add_all(self, values: Iterable[float]) -> None:
        for value in values:
            self.add(value)

    def merge(self, other: LatencySketch) -> LatencySketch:
        """Add the other sketch's counts to this one (in place; returns self)."""
        for key, count in other.bins.items():
            self.bins[key] = self.bins.get(key, 0) + count
        self.zero += other.zero
        self.count += other.count
        return self

    def quantile(self, q: float) -> float | None:
        """The q-quantile (0 <= q <= 1) in milliseconds, None when the sketch is empty."""
        if not 0 <= q <= 1:
            raise ValueError(f"a quantile is between 0 and 1, not {q}")
        if self.count == 0:
            return None
        rank = q * (self.count - 1)
        seen = self.zero
        if rank < seen:
            return 0.0
        for key in sorted(self.bins):
            seen += self.bins[key]
            if rank < seen:
                # The bucket (gamma^(key-1), gamma^key]: its value with the least relative error.
                return 2 * self.gamma**key / (self.gamma + 1)
        return 2 * self.gamma ** max(self.bins) / (self.gamma + 1)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form: bucket keys as strings (JSON objects need them), counts as integers."""
        return {"zero": self.zero, "bins": {str(key): count for key, count in self.bins.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> LatencySketch:
        sketch = cls()
        if not data:
            return sketch
        sketch.zero = int(data.get("zero", 0))
        sketch.bins = {int(key): int(count) for key, count in data.get("bins", {}).items()}
        sketch.count = sketch.zero + sum(sketch.bins.values())
        return sketch

    @classmethod
    def merged(cls, sketches: Iterable[LatencySketch]) -> LatencySketch:
        """One sketch holding the counts of all."""
        total = cls()
        for sketch in sketches:
            total.merge(sketch)
        return total
