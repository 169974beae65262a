"""Retention, applied continuously: traces that started more than `retention_hours` ago go (their spans and tags
with them), then the oldest traces while more than `max_spans` spans are stored, then the service map's minutes
older than the age limit.

A trace goes whole, never a part of it, so a trace that is shown is complete. Deletions run in chunks of
traces, each its own short transaction under the ingest writer's lock: ingest waits for one chunk at most,
never for a whole round, and SQLite never sees two writers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from mlsec.core.database import Database
from mlsec.services.tracing.models import ServiceEdge, Span, SpanTag, Trace
from mlsec.services.tracing.service.ingest import TAG_COLUMNS, tag_tuples
from mlsec.services.tracing.service.service_map import MINUTE_US

logger = logging.getLogger("mlsec.tracing.retention")
CHUNK = 500  # traces per deletion transaction
HOUR_US = 3_600_000_000


@dataclass
class RetentionResult:
    traces_by_age: int = 0
    traces_by_size: int = 0
    spans: int = 0
    edge_minutes: int = 0


async def apply(
    db: Database, lock: asyncio.Lock, *, retention_hours: int, max_spans: int, now_us: int | None = None
) -> RetentionResult:
    """One retention round; what it deleted."""
    now_us = time.time_ns() // 1000 if now_us is None else now_us
    cutoff = now_us - retention_hours * HOUR_US
    result = RetentionResult()
    while ids := await _older_than(db, cutoff):
        result.spans += await _delete_traces(db, lock, ids)
        result.traces_by_age += len(ids)
    while (excess := await _span_count(db) - max_spans) > 0 and (ids := await _oldest_covering(db, excess)):
        result.spans += await _delete_traces(db, lock, ids)
        result.traces_by_size += len(ids)
    async with lock, db.engine.begin() as conn:
        deleted = await conn.execute(delete(ServiceEdge).where(ServiceEdge.minute < cutoff // MINUTE_US))
        result.edge_minutes = deleted.rowcount or 0
    if result.spans or result.edge_minutes:
        logger.info(
            "tracing.retention.applied",
            extra={
                "traces_by_age": result.traces_by_age,
                "traces_by_size": result.traces_by_size,
                "spans": result.spans,
                "edge_minutes": result.edge_minutes,
            },
        )
    return result


async def _older_than(db: Database, cutoff: int) -> list[str]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(select(Trace.trace_id).where(Trace.start_us < cutoff).limit(CHUNK))
        return [trace_id for (trace_id,) in rows]


async def _span_count(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(Span)) or 0)


async def _oldest_covering(db: Database, excess: int) -> list[str]:
    """The oldest traces whose spans add up to at least `excess` (at most one chunk of them)."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            select(Trace.trace_id, Trace.span_count).order_by(Trace.start_us, Trace.trace_id).limit(CHUNK)
        )
        chosen: list[str] = []
        for trace_id, span_count in rows:
            chosen.append(trace_id)
            excess -= span_count
            if excess <= 0:
                break
        return chosen


async def _delete_traces(db: Database, lock: asyncio.Lock, ids: list[str]) -> int:
    """Delete the traces with their spans and tags, in one transaction; the spans deleted."""
    async with lock, db.engine.begin() as conn:
        return await delete_traces(conn, ids)


async def delete_traces(conn: AsyncConnection, ids: list[str]) -> int:
    """In the open transaction: the traces' tags, spans and summaries; the number of spans deleted.

    A span's tags are derived from its stored attributes, as ingest made them, and deleted by their key: the tag
    table has no trace id index for ingest to maintain."""
    spans = await conn.execute(select(Span.trace_id, Span.span_id, Span.attributes).where(Span.trace_id.in_(ids)))
    tags = [dict(zip(TAG_COLUMNS, tag, strict=True)) for tag in tag_tuples(row._asdict() for row in spans)]
    if tags:
        await conn.execute(
            delete(SpanTag).where(*(getattr(SpanTag, name) == bindparam(name) for name in TAG_COLUMNS)), tags
        )
    deleted = await conn.execute(delete(Span).where(Span.trace_id.in_(ids)))
    await conn.execute(delete(Trace).where(Trace.trace_id.in_(ids)))
    return deleted.rowcount or 0
