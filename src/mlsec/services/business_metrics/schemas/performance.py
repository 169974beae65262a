"""Shapes of `/performance`, `/throughput` and `/latency`: serving speed per model version and the health of
every service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from mlsec.services.business_metrics.schemas.metrics import PeriodRead
from mlsec.services.business_metrics.service.period import Resolution


class SourceStatus(BaseModel):
    """Whether a service read live for this answer replied; its figures are null when it did not."""

    status: Literal["ok", "unavailable"]
    error: str | None = Field(None, description="Why not (unreachable, timeout, circuit_open or an HTTP status).")


class VersionPerformance(BaseModel):
    model_name: str
    model_version: str
    predictions: int
    throughput_per_s: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    latency_mean_ms: float | None
    error_rate: float | None = Field(
        description="Failed prediction requests of the services that served this version, in the buckets it served."
    )


class Red(BaseModel):
    """The tracing service's RED figures of one service (its requests' rate, errors, duration)."""

    count: int
    rate_per_s: float
    errors: int
    error_rate: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


class ServicePerformance(BaseModel):
    service: str
    availability: float | None
    mttr_s: float | None = Field(description="Mean seconds down per outage; null without an outage.")
    outages: int
    error_rate: float | None
    red: Red | None = Field(description="From the tracing service; null when it has none or is unreachable.")


class PerformanceRead(BaseModel):
    period: PeriodRead
    resolution: Resolution
    models: list[VersionPerformance]
    services: list[ServicePerformance]
    tracing_window_minutes: int = Field(description="The RED figures cover this many minutes ending now.")
    sources: dict[str, SourceStatus]


class Point(BaseModel):
    start: datetime
    value: float | None


class VersionSeries(BaseModel):
    model_name: str
    model_version: str
    points: list[Point]


class ThroughputRead(BaseModel):
    """Predictions per second per bucket, per model version."""

    period: PeriodRead
    resolution: Resolution
    total: list[Point]
    models: list[VersionSeries]


class LatencyPoint(BaseModel):
    start: datetime
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class VersionLatency(BaseModel):
    model_name: str
    model_version: str
    points: list[LatencyPoint]


class LatencyRead(BaseModel):
    """Latency percentiles per bucket, per model version (merged sketches, 1% relative accuracy)."""

    period: PeriodRead
    resolution: Resolution
    models: list[VersionLatency]
