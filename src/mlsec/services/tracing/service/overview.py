"""The store at a glance (`GET /`) and the dashboard's summary (`GET /dashboard`), built from the other queries."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.tracing.models import Span, Trace
from mlsec.services.tracing.schemas.overview import DashboardRead, InfoRead, RetentionRead
from mlsec.services.tracing.service import metrics, services, traces
from mlsec.services.tracing.service.queries import rate, to_datetime, window_start_us
from mlsec.services.tracing.settings import TracingSettings

OTLP_ENDPOINT = "/v1/traces"
SLOWEST = 10


async def get_info(session: AsyncSession, *, service: str, version: str, settings: TracingSettings) -> InfoRead:
    """Counts of spans and traces, the oldest and newest span, the receiver's path and the retention."""
    spans, oldest, newest = (
        await session.execute(select(func.count(), func.min(Span.start_us), func.max(Span.start_us)))
    ).one()
    trace_count = (await session.execute(select(func.count()).select_from(Trace))).scalar_one()
    return InfoRead(
        service=service,
        version=version,
        spans=spans,
        traces=trace_count,
        oldest=None if oldest is None else to_datetime(oldest),
        newest=None if newest is None else to_datetime(newest),
        otlp_endpoint=OTLP_ENDPOINT,
        retention=RetentionRead(hours=settings.retention_hours, max_spans=settings.max_spans),
    )


async def get_dashboard(session: AsyncSession, *, window_minutes: int) -> DashboardRead:
    """The window's totals, per-service RED, slowest traces, newest errors and the map's edges."""
    since = window_start_us(window_minutes)
    has_error = func.sum(case((Trace.error_count > 0, 1), else_=0))
    trace_count, span_count, error_traces = (
        await session.execute(
            select(func.count(), func.sum(Trace.span_count), has_error).where(Trace.start_us >= since)
        )
    ).one()
    performance = await metrics.get_performance(session, window_minutes=window_minutes)
    slowest = await traces.search(session, traces.TraceQuery(start_us=since, sort="duration", limit=SLOWEST))
    errors = await metrics.get_recent_errors(session, since_us=since)
    service_map = await services.get_map(session, window_minutes=window_minutes)
    return DashboardRead(
        window_minutes=window_minutes,
        traces=trace_count,
        spans=int(span_count or 0),
        error_rate=rate(int(error_traces or 0), trace_count),
        services=performance.services,
        slowest=slowest.traces,
        recent_errors=errors,
        edges=service_map.edges,
    )
