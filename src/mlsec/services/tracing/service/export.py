"""A stored trace as an OTLP JSON `ExportTraceServiceRequest`: what Jaeger, an OpenTelemetry collector or this
receiver itself accept back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.tracing.errors import TraceNotFoundError
from mlsec.services.tracing.models import Span
from mlsec.services.tracing.service import otlp
from mlsec.services.tracing.service.ingest import SPAN_COLUMNS

SCOPE = "mlsec.tracing.export"
COLUMNS = tuple(column for column in SPAN_COLUMNS if column != "received_us")
"""What an export carries of a span: everything stored but when it arrived."""


async def get_or_raise(session: AsyncSession, trace_id: str) -> dict[str, Any]:
    """The trace's spans in OTLP JSON, ordered by start; TraceNotFoundError when none is stored."""
    result = await session.execute(
        select(*(getattr(Span, name) for name in COLUMNS))
        .where(Span.trace_id == trace_id)
        .order_by(Span.start_us, Span.span_id)
    )
    rows = [dict(row._mapping) for row in result]
    if not rows:
        raise TraceNotFoundError(trace_id)
    return otlp.json_request(rows, SCOPE)
