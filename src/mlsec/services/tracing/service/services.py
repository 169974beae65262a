"""Services that sent spans and their operations, and the service map read from the edges ingest keeps per
minute (`service_edge`): a sum over a window's minutes, so the map is current without a batch job."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.tracing.errors import ServiceNotFoundError
from mlsec.services.tracing.models import ServiceEdge, Span
from mlsec.services.tracing.schemas.services import (
    MapEdge,
    MapNode,
    OperationList,
    OperationSummary,
    ServiceList,
    ServiceMapRead,
    ServiceSummary,
)
from mlsec.services.tracing.service.queries import US_PER_MINUTE, ms, now_us, rate, to_datetime


async def get_all(session: AsyncSession) -> ServiceList:
    """Every service with stored spans: its operations, spans and newest span (read from the
    (service, operation, start) index alone)."""
    rows = await session.execute(
        select(Span.service, func.count(func.distinct(Span.operation)), func.count(), func.max(Span.start_us))
        .group_by(Span.service)
        .order_by(Span.service)
    )
    return ServiceList(
        services=[
            ServiceSummary(name=name, operations=ops, spans=spans, last_seen=to_datetime(last))
            for name, ops, spans, last in rows
        ]
    )


async def get_operations_or_raise(session: AsyncSession, service: str) -> OperationList:
    """A service's operations, most spans first; 404 when it has no span. Counts and last times come from the
    (service, operation, start) index alone; the kind is the newest span's, read for that one row per name."""
    grouped = (
        select(Span.operation, func.count().label("spans"), func.max(Span.start_us).label("last"))
        .where(Span.service == service)
        .group_by(Span.operation)
        .subquery()
    )
    newest = and_(Span.service == service, Span.operation == grouped.c.operation, Span.start_us == grouped.c.last)
    rows = (
        await session.execute(
            select(grouped.c.operation, Span.kind, grouped.c.spans, grouped.c.last).join(Span, newest)
        )
    ).all()
    if not rows:
        raise ServiceNotFoundError(service)
    found = {o: OperationSummary(name=o, kind=k, count=c, last_seen=to_datetime(last)) for o, k, c, last in rows}
    operations = sorted(found.values(), key=lambda o: (-o.count, o.name))  # one row per name (two spans may tie)
    return OperationList(service=service, operations=operations)


async def get_map(session: AsyncSession, *, window_minutes: int) -> ServiceMapRead:
    """Edges summed over the window's minutes (the current minute included) and each service's calls in and out."""
    first_minute = now_us() // US_PER_MINUTE - window_minutes + 1
    rows = await session.execute(
        select(
            ServiceEdge.source,
            ServiceEdge.target,
            func.sum(ServiceEdge.calls),
            func.sum(ServiceEdge.errors),
            func.sum(ServiceEdge.duration_us_sum),
            func.max(ServiceEdge.duration_us_max),
        )
        .where(ServiceEdge.minute >= first_minute)
        .group_by(ServiceEdge.source, ServiceEdge.target)
        .order_by(ServiceEdge.source, ServiceEdge.target)
    )
    edges = []
    calls_in: dict[str, int] = defaultdict(int)
    calls_out: dict[str, int] = defaultdict(int)
    for source, target, calls, errors, total_us, max_us in rows:
        calls, errors = int(calls or 0), int(errors or 0)
        calls_out[source] += calls
        calls_in[target] += calls
        edges.append(
            MapEdge(
                source=source,
                target=target,
                calls=calls,
                errors=errors,
                error_rate=rate(errors, calls),
                avg_ms=ms(int(total_us or 0) / calls) if calls else 0.0,
                max_ms=ms(int(max_us or 0)),
            )
        )
    names = sorted(set(calls_in) | set(calls_out))
    nodes = [MapNode(service=name, calls_in=calls_in[name], calls_out=calls_out[name]) for name in names]
    return ServiceMapRead(window_minutes=window_minutes, nodes=nodes, edges=edges)
