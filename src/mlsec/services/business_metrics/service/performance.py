"""Serving speed and service health: throughput and latency per model version from the rollups, availability
and MTTR per service, and the tracing service's RED figures read live (null, and said so, when it does not
answer)."""

from __future__ import annotations

import math
from collections.abc import Awaitable
from typing import Any, TypeVar

from mlsec.client import MainAPIClient, ServiceCallError
from mlsec.services.business_metrics.schemas.metrics import PeriodRead
from mlsec.services.business_metrics.schemas.performance import (
    LatencyPoint,
    LatencyRead,
    PerformanceRead,
    Point,
    Red,
    ServicePerformance,
    SourceStatus,
    ThroughputRead,
    VersionLatency,
    VersionPerformance,
    VersionSeries,
)
from mlsec.services.business_metrics.service.costs import Prices
from mlsec.services.business_metrics.service.kpis import Rollups, Selection, compute, get_rollups, split
from mlsec.services.business_metrics.service.period import Period, Resolution, resolution_for
from mlsec.services.business_metrics.service.summary import services, versions

MAX_TRACING_WINDOW_MINUTES = 7 * 24 * 60
"""The longest window the tracing service's RED route takes."""
NO_PRICES = Prices(0.0, 0.0, "")  # performance figures involve no cost
T = TypeVar("T")


def period_read(period: Period) -> PeriodRead:
    return PeriodRead(start=period.start, end=period.end, seconds=period.seconds)


async def read_live(call: Awaitable[T]) -> tuple[T | None, SourceStatus]:
    """A live read of another service: its answer, or None and why it failed (never the failure's text)."""
    try:
        return await call, SourceStatus(status="ok")
    except ServiceCallError as exc:
        reason = exc.error_type if exc.status_code is None else f"HTTP {exc.status_code}"
        return None, SourceStatus(status="unavailable", error=reason)


def version_error_rate(data: Rollups, model_name: str, model_version: str) -> float | None:
    """Failed prediction requests of the services that served a version, over the buckets in which it served
    (a failed request names no version, so this is the closest attribution the counters allow)."""
    served = {
        (b.start, b.service)
        for b in data.predictions
        if b.model_name == model_name and b.model_version == model_version and b.predictions
    }
    rows = [s for s in data.services if (s.start, s.service) in served]
    requests = sum(s.prediction_requests for s in rows)
    return sum(s.prediction_errors for s in rows) / requests if requests else None


def _version(data: Rollups, name: str, version: str) -> VersionPerformance:
    selection = Selection(name, version)
    figures = {k: compute(k, data, selection, NO_PRICES) for k in ("predictions", "throughput_per_s")}
    latencies = {
        k: compute(k, data, selection, NO_PRICES)
        for k in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "latency_mean_ms")
    }
    return VersionPerformance(
        model_name=name,
        model_version=version,
        predictions=int(figures["predictions"] or 0),
        throughput_per_s=figures["throughput_per_s"] or 0.0,
        error_rate=version_error_rate(data, name, version),
        **latencies,
    )


def _service(data: Rollups, name: str, red: dict[str, Any] | None) -> ServicePerformance:
    selection = Selection(service=name)
    return ServicePerformance(
        service=name,
        availability=compute("availability", data, selection, NO_PRICES),
        mttr_s=compute("mttr_s", data, selection, NO_PRICES),
        outages=sum(b.outages for b in data.services if b.service == name),
        error_rate=compute("error_rate", data, selection, NO_PRICES),
        red=None if red is None else Red.model_validate(red),
    )


def tracing_window(period: Period) -> int:
    """The tracing RED window (minutes, ending now) closest to the period's length."""
    return max(1, min(MAX_TRACING_WINDOW_MINUTES, math.ceil(period.seconds / 60)))


async def get(db: Any, sdk: MainAPIClient, period: Period) -> PerformanceRead:
    """Per model version and per service, with the tracing service's RED figures when it answers."""
    resolution = resolution_for(period)
    data = await get_rollups(db, period, resolution, ("predictions", "services"))
    window = tracing_window(period)
    red, status = await read_live(sdk.tracing.get_performance(window_minutes=window))
    red_by_service = {row["service"]: row for row in (red or {}).get("services", [])}
    names = sorted(set(services(data)) | set(red_by_service))
    return PerformanceRead(
        period=period_read(period),
        resolution=resolution,
        models=[_version(data, name, version) for name, version in versions(data) if _served(data, name, version)],
        services=[_service(data, name, red_by_service.get(name)) for name in names],
        tracing_window_minutes=window,
        sources={"tracing": status},
    )


def _served(data: Rollups, name: str, version: str) -> bool:
    return any(b.model_name == name and b.model_version == version for b in data.predictions)


async def _series_data(
    db: Any, period: Period, resolution: Resolution | None
) -> tuple[Resolution, Rollups, list[tuple[Any, Rollups]]]:
    chosen = resolution_for(period, resolution)
    data = await get_rollups(db, period, chosen, ("predictions",))
    return chosen, data, split(data, period, chosen)


def _chosen_versions(data: Rollups, model_name: str | None, model_version: str | None) -> list[tuple[str, str]]:
    return [
        (name, version)
        for name, version in versions(data)
        if model_name in (None, name) and model_version in (None, version)
    ]


async def get_throughput(
    db: Any,
    period: Period,
    resolution: Resolution | None,
    *,
    model_name: str | None = None,
    model_version: str | None = None,
) -> ThroughputRead:
    """Predictions per second in each bucket: in total (of the selection) and per model version."""
    chosen, data, buckets = await _series_data(db, period, resolution)

    def points(selection: Selection) -> list[Point]:
        return [
            Point(start=start, value=compute("throughput_per_s", group, selection, NO_PRICES))
            for start, group in buckets
        ]

    return ThroughputRead(
        period=period_read(period),
        resolution=chosen,
        total=points(Selection(model_name, model_version)),
        models=[
            VersionSeries(model_name=name, model_version=version, points=points(Selection(name, version)))
            for name, version in _chosen_versions(data, model_name, model_version)
        ],
    )


async def get_latency(
    db: Any,
    period: Period,
    resolution: Resolution | None,
    *,
    model_name: str | None = None,
    model_version: str | None = None,
) -> LatencyRead:
    """p50/p95/p99 in each bucket, per model version."""
    chosen, data, buckets = await _series_data(db, period, resolution)

    def points(selection: Selection) -> list[LatencyPoint]:
        return [
            LatencyPoint(
                start=start,
                p50_ms=compute("latency_p50_ms", group, selection, NO_PRICES),
                p95_ms=compute("latency_p95_ms", group, selection, NO_PRICES),
                p99_ms=compute("latency_p99_ms", group, selection, NO_PRICES),
            )
            for start, group in buckets
        ]

    return LatencyRead(
        period=period_read(period),
        resolution=chosen,
        models=[
            VersionLatency(model_name=name, model_version=version, points=points(Selection(name, version)))
            for name, version in _chosen_versions(data, model_name, model_version)
        ],
    )
