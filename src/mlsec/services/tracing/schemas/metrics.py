"""Shapes of the RED metrics (rate, errors, duration) over a window that ends now.

Counts, rates and error rates are exact; percentiles are computed from the durations of the window's newest
100,000 rows (`service.queries.SAMPLE_ROWS`), which is all of them below that."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from mlsec.core.limits import NO_NUL_PATTERN

MAX_WINDOW_MINUTES = 7 * 24 * 60
WindowMinutes = Annotated[
    int, Query(ge=1, le=MAX_WINDOW_MINUTES, description="The window ends now and reaches this many minutes back.")
]
ServiceQuery = Annotated[
    str | None, Query(min_length=1, max_length=128, pattern=NO_NUL_PATTERN, description="Only this service.")
]
OperationQuery = Annotated[
    str | None, Query(min_length=1, max_length=256, pattern=NO_NUL_PATTERN, description="Only this operation.")
]


class Red(BaseModel):
    """Requests of one service (operation null) or one operation: SERVER spans and spans without a parent."""

    service: str
    operation: str | None
    count: int
    rate_per_s: float = Field(description="count / the window's seconds.")
    errors: int
    error_rate: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


class PerformanceRead(BaseModel):
    window_minutes: int
    services: list[Red]
    operations: list[Red]


class OperationErrors(BaseModel):
    """All spans of one operation in the window, and how many ended in error."""

    service: str
    operation: str
    count: int
    errors: int
    error_rate: float


class RecentError(BaseModel):
    """An error span: where it is, and what the span says of the error (never a request's text)."""

    trace_id: str
    span_id: str
    service: str
    operation: str
    start_time: datetime
    status_message: str | None
    error_type: str | None = Field(description="The span's error.type attribute.")


class ErrorsRead(BaseModel):
    """Spans and error spans in the window (of every kind), by operation (most errors first) and the newest 20."""

    window_minutes: int
    spans: int
    errors: int
    error_rate: float
    by_operation: list[OperationErrors]
    recent: list[RecentError]


class DurationPercentiles(BaseModel):
    p50: float
    p95: float
    p99: float


class MinuteTraces(BaseModel):
    """Traces that started in one minute (with any), those with an error span, and their p95 duration."""

    minute: datetime
    traces: int
    errors: int
    p95_ms: float


class TracesMetricsRead(BaseModel):
    """Traces that started in the window: how many, their spans, how many had an error, trace durations (ms)."""

    window_minutes: int
    traces: int
    spans: int
    error_traces: int
    rate_per_s: float
    duration_ms: DurationPercentiles
    per_minute: list[MinuteTraces]
