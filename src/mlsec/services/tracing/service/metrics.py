"""RED metrics over a window that ends now: requests per service and operation, errors, trace durations.

Counts and error counts are SQL aggregates over the window (exact). Percentiles need the durations themselves:
they are read for the window's newest `SAMPLE_ROWS` rows only (one indexed range scan, newest first), so a
busy hour costs at most that many rows in Python whatever the window holds."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.tracing.models import Span, Trace
from mlsec.services.tracing.schemas.metrics import (
    DurationPercentiles,
    ErrorsRead,
    MinuteTraces,
    OperationErrors,
    PerformanceRead,
    RecentError,
    Red,
    TracesMetricsRead,
)
from mlsec.services.tracing.service.queries import (
    SAMPLE_ROWS,
    STATUS_ERROR,
    US_PER_MINUTE,
    ms,
    percentile,
    percentiles_ms,
    rate,
    to_datetime,
    window_start_us,
)

RECENT_ERRORS = 20
MAX_OPERATIONS = 200
"""Most rows of `by_operation` (those with the most errors); the totals count every operation."""

_ERROR = func.sum(case((Span.status == STATUS_ERROR, 1), else_=0))


def _request_conditions(window_minutes: int, service: str | None, operation: str | None) -> list[Any]:
    """Requests in the window: SERVER spans and spans without a parent (a root is a request to its service)."""
    conditions: list[Any] = [
        Span.start_us >= window_start_us(window_minutes),
        or_(Span.kind == "server", Span.parent_span_id.is_(None)),
    ]
    if service is not None:
        conditions.append(Span.service == service)
    if operation is not None:
        conditions.append(Span.operation == operation)
    return conditions


async def get_performance(
    session: AsyncSession, *, window_minutes: int, service: str | None = None, operation: str | None = None
) -> PerformanceRead:
    """Rate, errors and p50/p95/p99 per service and per (service, operation)."""
    conditions = _request_conditions(window_minutes, service, operation)
    sample = (
        await session.execute(
            select(Span.service, Span.operation, Span.duration_us, Span.status)
            .where(*conditions)
            .order_by(Span.start_us.desc())
            .limit(SAMPLE_ROWS)
        )
    ).all()
    if len(sample) < SAMPLE_ROWS:  # the whole window: count it here instead of a second scan
        tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for name, op, _, status in sample:
            tally[(name, op)][0] += 1
            tally[(name, op)][1] += status == STATUS_ERROR
        counted: Any = [(name, op, c, e) for (name, op), (c, e) in tally.items()]
    else:
        counted = await session.execute(
            select(Span.service, Span.operation, func.count(), _ERROR)
            .where(*conditions)
            .group_by(Span.service, Span.operation)
        )
    by_service: dict[str, list[int]] = defaultdict(list)
    by_operation: dict[tuple[str, str], list[int]] = defaultdict(list)
    for name, op, duration, _ in sample:
        by_service[name].append(duration)
        by_operation[(name, op)].append(duration)
    seconds = window_minutes * 60
    service_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    operations = []
    for name, op, count, errors in counted:
        service_counts[name][0] += count
        service_counts[name][1] += int(errors or 0)
        operations.append(_red(name, op, count, int(errors or 0), seconds, by_operation[(name, op)]))
    services = [_red(name, None, c, e, seconds, by_service[name]) for name, (c, e) in service_counts.items()]
    return PerformanceRead(
        window_minutes=window_minutes,
        services=sorted(services, key=lambda r: r.service),
        operations=sorted(operations, key=lambda r: (r.service, r.operation or "")),
    )


def _red(service: str, operation: str | None, count: int, errors: int, seconds: int, durations: list[int]) -> Red:
    p50, p95, p99 = percentiles_ms(durations)
    return Red(
        service=service,
        operation=operation,
        count=count,
        rate_per_s=round(count / seconds, 6),
        errors=errors,
        error_rate=rate(errors, count),
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
    )


async def get_errors(session: AsyncSession, *, window_minutes: int, service: str | None = None) -> ErrorsRead:
    """Spans of every kind in the window, their errors by operation, and the newest error spans."""
    conditions: list[Any] = [Span.start_us >= window_start_us(window_minutes)]
    if service is not None:
        conditions.append(Span.service == service)
    grouped = await session.execute(
        select(Span.service, Span.operation, func.count(), _ERROR)
        .where(*conditions)
        .group_by(Span.service, Span.operation)
    )
    rows = [
        OperationErrors(service=s, operation=o, count=c, errors=int(e or 0), error_rate=rate(int(e or 0), c))
        for s, o, c, e in grouped
    ]
    rows.sort(key=lambda r: (-r.errors, -r.count, r.service, r.operation))
    spans, errors = sum(r.count for r in rows), sum(r.errors for r in rows)
    recent = await get_recent_errors(session, since_us=window_start_us(window_minutes), service=service)
    return ErrorsRead(
        window_minutes=window_minutes,
        spans=spans,
        errors=errors,
        error_rate=rate(errors, spans),
        by_operation=rows[:MAX_OPERATIONS],
        recent=recent,
    )


async def get_recent_errors(session: AsyncSession, *, since_us: int, service: str | None = None) -> list[RecentError]:
    """The newest error spans since a time (of one service if given)."""
    conditions: list[Any] = [Span.start_us >= since_us, Span.status == STATUS_ERROR]
    if service is not None:
        conditions.append(Span.service == service)
    rows = await session.execute(select(Span).where(*conditions).order_by(Span.start_us.desc()).limit(RECENT_ERRORS))
    return [recent_error(span) for span in rows.scalars()]


def recent_error(span: Span) -> RecentError:
    error_type = span.attributes.get("error.type") if isinstance(span.attributes, dict) else None
    return RecentError(
        trace_id=span.trace_id,
        span_id=span.span_id,
        service=span.service,
        operation=span.operation,
        start_time=to_datetime(span.start_us),
        status_message=span.status_message,
        error_type=None if error_type is None else str(error_type),
    )


async def get_traces(session: AsyncSession, *, window_minutes: int) -> TracesMetricsRead:
    """Traces that started in the window: counts, trace-duration percentiles, and the same per minute. One read of
    the window's newest `SAMPLE_ROWS` trace rows; the exact counts take two more aggregates only when the window
    holds more than that."""
    since = Trace.start_us >= window_start_us(window_minutes)
    sample = (
        await session.execute(
            select(Trace.start_us, Trace.duration_us, Trace.span_count, Trace.error_count)
            .where(since)
            .order_by(Trace.start_us.desc())
            .limit(SAMPLE_ROWS)
        )
    ).all()
    durations: list[int] = []
    by_minute: dict[int, list[int]] = defaultdict(list)
    minute_counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for start_us, duration_us, _, error_count in sample:
        durations.append(duration_us)
        by_minute[start_us // US_PER_MINUTE].append(duration_us)
        minute_counts[start_us // US_PER_MINUTE][0] += 1
        minute_counts[start_us // US_PER_MINUTE][1] += error_count > 0
    traces, spans = len(sample), sum(row[2] for row in sample)
    error_traces = sum(row[3] > 0 for row in sample)
    if len(sample) == SAMPLE_ROWS:  # more than the sample: count the whole window in SQL
        traces, spans, error_traces, minute_counts = await _count_traces(session, since)
    p50, p95, p99 = percentiles_ms(durations)
    return TracesMetricsRead(
        window_minutes=window_minutes,
        traces=traces,
        spans=spans,
        error_traces=error_traces,
        rate_per_s=round(traces / (window_minutes * 60), 6),
        duration_ms=DurationPercentiles(p50=p50, p95=p95, p99=p99),
        per_minute=[
            MinuteTraces(
                minute=to_datetime(minute * US_PER_MINUTE),
                traces=count,
                errors=errors,
                p95_ms=ms(percentile(sorted(by_minute[minute]), 0.95)),
            )
            for minute, (count, errors) in sorted(minute_counts.items())
        ],
    )


async def _count_traces(session: AsyncSession, since: Any) -> tuple[int, int, int, dict[int, list[int]]]:
    """Traces, spans and traces with an error in the window, and traces and error traces per minute."""
    has_error = func.sum(case((Trace.error_count > 0, 1), else_=0))
    traces, spans, error_traces = (
        await session.execute(select(func.count(), func.sum(Trace.span_count), has_error).where(since))
    ).one()
    minute = Trace.start_us // US_PER_MINUTE
    rows = await session.execute(select(minute, func.count(), has_error).where(since).group_by(minute))
    per_minute = {int(m): [count, int(errors or 0)] for m, count, errors in rows}
    return traces, int(spans or 0), int(error_traces or 0), per_minute
