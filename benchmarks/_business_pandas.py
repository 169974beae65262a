"""The baseline of the business-metrics suite: what a user without the service writes, pandas over the raw
prediction log export (and the process samples, for costs), computing the figures each of the service's
queries answers; and the check that both give the same figures.

Each function gets the period and resolution the service answered for and counts the records whose bucket
starts in it, as the service does (an hourly answer over `30d` counts the whole hours that start in the
period), so that the two are compared on the same records. Quantiles are taken at the rank the service's
sketch uses, `q * (n - 1)` rounded down (`interpolation="lower"`); the sketch answers within 1% of that value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd

from benchmarks._business_data import BENIGN

RESOLUTION_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
NS_PER_MINUTE = 60_000_000_000
SKETCH_ACCURACY = 0.01
COUNT_TOLERANCE = 1e-9
"""Counts must be equal; costs (sums of floats in another order) equal to this relative difference."""


def _window(frame: pd.DataFrame, column: str, period: dict[str, Any], resolution: str) -> tuple[pd.DataFrame, Any]:
    """The rows whose bucket at `resolution` starts in the period, and their buckets (minutes since the epoch)."""
    size = RESOLUTION_MINUTES[resolution]
    minute = frame[column].astype("int64") // NS_PER_MINUTE
    bucket = minute - minute % size
    first = math.ceil(datetime.fromisoformat(period["start"]).timestamp() / 60)
    last = math.ceil(datetime.fromisoformat(period["end"]).timestamp() / 60)
    keep = (bucket >= first) & (bucket < last)
    return frame[keep], bucket[keep]


def summary(log: pd.DataFrame, samples: pd.DataFrame, answer: dict[str, Any]) -> dict[str, Any]:
    """Per model version: predictions, threats, p50/p95/p99 and mean latency (`/metrics/summary`'s model rows)."""
    rows, _ = _window(log, "created_at", answer["period"], answer["resolution"])
    grouped = rows.groupby("model_version")
    latency = grouped["latency_ms"].quantile([0.5, 0.95, 0.99], interpolation="lower").unstack()
    figures = pd.DataFrame(
        {
            "predictions": grouped.size(),
            "threats": (rows["label"] != BENIGN).groupby(rows["model_version"]).sum(),
            "mean": grouped["latency_ms"].mean(),
            "p50": latency[0.5],
            "p95": latency[0.95],
            "p99": latency[0.99],
        }
    )
    return {str(version): row for version, row in figures.to_dict("index").items()}


def costs(log: pd.DataFrame, samples: pd.DataFrame, answer: dict[str, Any]) -> dict[str, Any]:
    """Per model version: cost per 1,000 predictions, each hour's service cost shared by the predictions served
    in it (`/costs`'s model rows), at the prices the service answered with."""
    prices = answer["prices"]
    rows, bucket = _window(log, "created_at", answer["period"], answer["resolution"])
    probes, probe_bucket = _window(samples, "at", answer["period"], answer["resolution"])
    cost = (
        (
            probes["cpu_s"] / 3600 * prices["cpu_per_hour"]
            + probes["memory_gib"] * probes["interval_s"] / 3600 * prices["memory_per_gib_hour"]
        )
        .groupby(probe_bucket.to_numpy())
        .sum()
    )
    served = rows.groupby([bucket.to_numpy(), rows["model_version"].to_numpy()]).size()
    share = served / served.groupby(level=0).transform("sum")
    attributed = (share * cost.reindex(share.index.get_level_values(0)).fillna(0).to_numpy()).groupby(level=1).sum()
    counts = served.groupby(level=1).sum()
    return {
        str(v): {"predictions": int(counts[v]), "cost_per_1k": attributed[v] / counts[v] * 1000} for v in counts.index
    }


def latency_series(log: pd.DataFrame, samples: pd.DataFrame, answer: dict[str, Any]) -> dict[Any, Any]:
    """Per model version and bucket: p50/p95/p99 (`/latency`'s points)."""
    rows, bucket = _window(log, "created_at", answer["period"], answer["resolution"])
    keys = [rows["model_version"].to_numpy(), bucket.to_numpy()]
    cuts = rows["latency_ms"].groupby(keys).quantile([0.5, 0.95, 0.99], interpolation="lower").unstack()
    return {(str(version), int(start)): row for (version, start), row in cuts.to_dict("index").items()}


def kpi_p99(log: pd.DataFrame, samples: pd.DataFrame, answer: dict[str, Any]) -> dict[str, Any]:
    """p99 per model version and of the platform (`/metrics/kpis?kpi=latency_p99_ms`'s rows)."""
    rows, _ = _window(log, "created_at", answer["period"], answer["resolution"])
    per_version = rows.groupby("model_version")["latency_ms"].quantile(0.99, interpolation="lower")
    figures = {str(version): float(value) for version, value in per_version.items()}
    figures["platform"] = float(rows["latency_ms"].quantile(0.99, interpolation="lower"))
    return figures


# --- agreement --------------------------------------------------------------------------------------------


class Agreement:
    """Compared figures of one query: how many, the largest relative difference of each kind, what disagreed."""

    def __init__(self) -> None:
        self.compared = 0
        self.worst: dict[str, float] = {}
        self.problems: list[str] = []

    def check(self, what: str, ours: Any, theirs: float, tolerance: float, kind: str) -> None:
        self.compared += 1
        if ours is None:
            self.problems.append(f"{what}: the service answered null, pandas {theirs}")
            return
        difference = abs(float(ours) - theirs) / abs(theirs) if theirs else abs(float(ours))
        self.worst[kind] = max(self.worst.get(kind, 0.0), difference)
        if difference > tolerance:
            self.problems.append(f"{what}: service {ours}, pandas {theirs}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "compared": self.compared,
            "max_relative_difference": {kind: float(f"{value:.3g}") for kind, value in self.worst.items()},
            "disagreements": len(self.problems),
            "examples": self.problems[:5],
            "agree": not self.problems and self.compared > 0,
        }


def _versions(rows: list[dict[str, Any]], expected: dict[str, Any], agreement: Agreement) -> dict[str, Any]:
    found = {str(row["model_version"]): row for row in rows if row.get("model_version") is not None}
    if set(found) != {key for key in expected if key != "platform"}:
        agreement.problems.append(f"versions: service {sorted(found)}, pandas {sorted(expected)}")
    return found


def agree_summary(answer: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    agreement = Agreement()
    found = _versions(answer["models"], expected, agreement)
    for version, theirs in expected.items():
        ours = found.get(version, {})
        agreement.check(
            f"v{version} predictions", ours.get("predictions"), theirs["predictions"], COUNT_TOLERANCE, "counts"
        )
        agreement.check(
            f"v{version} threats", ours.get("threats_detected"), theirs["threats"], COUNT_TOLERANCE, "counts"
        )
        agreement.check(f"v{version} mean", ours.get("latency_mean_ms"), theirs["mean"], 1e-6, "mean")
        for name in ("p50", "p95", "p99"):
            agreement.check(
                f"v{version} {name}", ours.get(f"latency_{name}_ms"), theirs[name], SKETCH_ACCURACY, "quantiles"
            )
    return agreement.as_dict()


def agree_costs(answer: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    agreement = Agreement()
    found = _versions(answer["models"], expected, agreement)
    for version, theirs in expected.items():
        ours = found.get(version, {})
        agreement.check(
            f"v{version} predictions", ours.get("predictions"), theirs["predictions"], COUNT_TOLERANCE, "counts"
        )
        agreement.check(f"v{version} cost/1k", ours.get("cost_per_1k_predictions"), theirs["cost_per_1k"], 1e-6, "cost")
    return agreement.as_dict()


def agree_latency(answer: dict[str, Any], expected: dict[Any, Any]) -> dict[str, Any]:
    agreement = Agreement()
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for series in answer["models"]:
        for point in series["points"]:
            if point["p99_ms"] is not None:
                start = int(datetime.fromisoformat(point["start"]).timestamp() // 60)
                found[(str(series["model_version"]), start)] = point
    if set(found) != set(expected):
        agreement.problems.append(f"buckets: service {len(found)}, pandas {len(expected)}")
    for key, theirs in expected.items():
        ours = found.get(key, {})
        for q, name in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
            agreement.check(
                f"v{key[0]} @{key[1]} {name}", ours.get(f"{name}_ms"), theirs[q], SKETCH_ACCURACY, "quantiles"
            )
    return agreement.as_dict()


def agree_kpi(answer: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    agreement = Agreement()
    found = _versions(answer["rows"], expected, agreement)
    platform = [row for row in answer["rows"] if row["scope"] == "platform"]
    found["platform"] = platform[0] if platform else {}
    for key, theirs in expected.items():
        agreement.check(f"{key} p99", found.get(key, {}).get("value"), theirs, SKETCH_ACCURACY, "quantiles")
    return agreement.as_dict()


Compute = Callable[[pd.DataFrame, pd.DataFrame, dict[str, Any]], dict[Any, Any]]
Agree = Callable[[dict[str, Any], dict[Any, Any]], dict[str, Any]]
