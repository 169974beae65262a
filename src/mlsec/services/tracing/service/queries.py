"""What every tracing query shares: times in microseconds to and from datetimes, a window's start, status names,
percentiles, and rows of `span` and `trace` as the API's shapes."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from mlsec.services.tracing.models import Span, Trace
from mlsec.services.tracing.schemas.traces import Span as SpanRead
from mlsec.services.tracing.schemas.traces import SpanStatus, TraceSummary

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
US_PER_MINUTE = 60_000_000
STATUS_ERROR = 2  # OTLP's STATUS_CODE_ERROR, as the `status` column keeps it
STATUS_NAMES: dict[int, SpanStatus] = {0: "unset", 1: "ok", 2: "error"}
SAMPLE_ROWS = 100_000
"""Most durations a percentile is computed from: the newest of the window (counts and error rates stay exact)."""


def to_datetime(us: int) -> datetime:
    """A stored time (microseconds since the epoch) as an aware UTC datetime, exactly (no float rounding)."""
    return EPOCH + timedelta(microseconds=us)


def to_us(moment: datetime) -> int:
    """An aware datetime as microseconds since the epoch."""
    return (moment - EPOCH) // ONE_US


def now_us() -> int:
    return time.time_ns() // 1000


def window_start_us(window_minutes: int) -> int:
    """The first microsecond of a window that ends now."""
    return now_us() - window_minutes * US_PER_MINUTE


def ms(us: float) -> float:
    """Microseconds as milliseconds, rounded to the microsecond the store keeps."""
    return round(us / 1000, 3)


def percentile(sorted_values: Sequence[int], fraction: float) -> float:
    """The `fraction` quantile of ascending values, linearly interpolated between the two nearest ranks (numpy's
    default), so that a p95 of few values is not just the largest; 0.0 for no values."""
    if not sorted_values:
        return 0.0
    rank = (len(sorted_values) - 1) * fraction
    low, high = math.floor(rank), math.ceil(rank)
    value = sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)
    return float(value)


def percentiles_ms(durations_us: list[int]) -> tuple[float, float, float]:
    """p50, p95 and p99 in milliseconds of durations in microseconds (sorted here)."""
    durations_us.sort()
    return (
        ms(percentile(durations_us, 0.5)),
        ms(percentile(durations_us, 0.95)),
        ms(percentile(durations_us, 0.99)),
    )


def rate(part: int, whole: int) -> float:
    """part / whole, 0.0 when there is no whole."""
    return round(part / whole, 6) if whole else 0.0


def span_read(row: Span) -> SpanRead:
    return SpanRead(
        trace_id=row.trace_id,
        span_id=row.span_id,
        parent_span_id=row.parent_span_id,
        service=row.service,
        operation=row.operation,
        kind=row.kind,
        start_time=to_datetime(row.start_us),
        duration_ms=ms(row.duration_us),
        status=STATUS_NAMES.get(row.status, "unset"),
        status_message=row.status_message,
        attributes=row.attributes,
        events=row.events,
        resource=row.resource,
    )


def trace_summary(row: Trace) -> TraceSummary:
    return TraceSummary(
        trace_id=row.trace_id,
        start_time=to_datetime(row.start_us),
        duration_ms=ms(row.duration_us),
        span_count=row.span_count,
        error_count=row.error_count,
        root_service=row.root_service,
        root_operation=row.root_operation,
        services=[str(name) for name in row.services],
    )
