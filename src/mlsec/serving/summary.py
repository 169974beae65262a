"""The live prediction feed: per model, version and traffic class, a summary of the last second.

The request path only adds to counters (a few dictionary updates per request); a background task turns
them into one `predictions.summary` event per model version and traffic class each second while there is
traffic, and nothing while there is none. Never one event per prediction: at a thousand predictions a
second that would flood the gateway's hub and every dashboard subscribed to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from mlsec.serving.model import LoadedModel, Prediction

logger = logging.getLogger("mlsec.serving.summary")
MAX_LATENCY_SAMPLES = 10_000  # per key and second; beyond it a uniform sample (reservoir) is kept
Publish = Callable[[dict[str, Any]], object]


@dataclass
class _Window:
    """What one model version answered for one traffic class since the last summary."""

    predictions: int = 0
    requests: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    def add(self, predictions: Sequence[Prediction], latency_ms: float, rng: random.Random) -> None:
        self.predictions += len(predictions)
        self.requests += 1
        self.labels.update(str(prediction.label) for prediction in predictions)
        if len(self.latencies_ms) < MAX_LATENCY_SAMPLES:
            self.latencies_ms.append(latency_ms)
        elif (slot := rng.randrange(self.requests)) < MAX_LATENCY_SAMPLES:
            self.latencies_ms[slot] = latency_ms


class PredictionSummaries:
    """Counts predictions as they are answered; `summarise` hands out and resets what was counted."""

    def __init__(self, *, source: str, interval_seconds: float = 1.0):
        self.source = source
        self.interval_seconds = interval_seconds
        self._windows: dict[tuple[str, str, str], _Window] = {}
        self._started = datetime.now(UTC)
        self._rng = random.Random()  # noqa: S311 - samples latencies, nothing secret
        self._task: asyncio.Task[None] | None = None

    def add(self, model: LoadedModel, predictions: Sequence[Prediction], latency_ms: float, traffic_class: str) -> None:
        """Count one answered request (`latency_ms`: the request's, however many predictions it held)."""
        key = (model.name, model.version, traffic_class)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window()
        window.add(predictions, latency_ms, self._rng)

    def summarise(self) -> list[dict[str, Any]]:
        """One summary per model version and traffic class seen since the last call, then a fresh start."""
        windows, self._windows = self._windows, {}
        started, self._started = self._started, datetime.now(UTC)
        seconds = max((self._started - started).total_seconds(), 1e-6)
        summaries = []
        for (name, version, traffic_class), window in sorted(windows.items()):
            latencies = np.asarray(window.latencies_ms, dtype=np.float64)
            p50, p99 = np.percentile(latencies, [50, 99]) if latencies.size else (0.0, 0.0)
            summaries.append(
                {
                    "model_name": name,
                    "model_version": version,
                    "traffic_class": traffic_class,
                    "service": self.source,
                    "window_start": started.isoformat(),
                    "window_seconds": round(seconds, 3),
                    "predictions": window.predictions,
                    "requests": window.requests,
                    "predictions_per_second": round(window.predictions / seconds, 3),
                    "labels": dict(window.labels),
                    "latency_ms": {
                        "p50": round(float(p50), 3),
                        "p99": round(float(p99), 3),
                        "max": round(float(latencies.max()), 3) if latencies.size else 0.0,
                    },
                }
            )
        return summaries

    def start(self, publish: Publish) -> None:
        """Publish the summaries every `interval_seconds` while there is traffic."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(publish), name="prediction-summaries")

    async def close(self, publish: Publish) -> None:
        """Stop, publishing what the last moments counted."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._publish_all(publish)

    async def _run(self, publish: Publish) -> None:
        while True:
            await asyncio.sleep(self.interval_seconds)
            self._publish_all(publish)

    def _publish_all(self, publish: Publish) -> None:
        try:
            for summary in self.summarise():
                publish(summary)
        except Exception:  # the feed is a view; it must never break serving
            logger.exception("serving.summary_failed")
