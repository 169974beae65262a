"""Ingest: received spans wait in a bounded backlog, one writer task commits them in batches, and a request is
answered only once its spans are committed.

One writer, because SQLite has one writer anyway, and because several requests coalesced into one transaction
cost one commit (one fsync) instead of one each: that is most of the throughput. The backlog is counted in
spans; a request that would pass `max_pending_spans` is refused at once (the receiver answers 503 with
Retry-After, and OTLP exporters retry), so a burst never grows the memory without bound. A request's spans
are answered after their commit, so an answered request is never lost by a crash; a failed commit fails the
requests in it (503, retried by the exporter), after each was tried alone so that one bad request cannot
take the others down with it.

Per batch: the spans (executemany), their searchable tags, the trace summaries (one upsert per trace: earliest
start, latest end, counts, services, root) and the service map's edges (`service_map`). A span already stored
(an exporter retrying a request whose answer it lost) is skipped, so nothing is counted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from mlsec.core.database import Database
from mlsec.services.tracing.errors import BacklogFullError, IngestFailedError
from mlsec.services.tracing.models import Span, SpanTag
from mlsec.services.tracing.service import bulk, service_map, summaries
from mlsec.services.tracing.service.service_map import Child, SpanKey

logger = logging.getLogger("mlsec.tracing.ingest")
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
SPAN_COLUMNS = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "service",
    "operation",
    "kind",
    "start_us",
    "duration_us",
    "status",
    "status_message",
    "attributes",
    "events",
    "resource",
    "received_us",
)
TAG_COLUMNS = ("key", "value", "trace_id", "span_id")
CHILD_COLUMNS = ("trace_id", "parent_span_id", "service", "start_us", "duration_us", "status")
"""Read by trace id (the primary key's prefix) and matched to their parents here: no parent index to maintain."""
SPAN_TABLE: Table = Span.__table__  # type: ignore[assignment]
TAG_TABLE: Table = SpanTag.__table__  # type: ignore[assignment]
_json = json.JSONEncoder(separators=(",", ":")).encode  # what SQLAlchemy's JSON type would write, compact
LOOKUP_CHUNK = 1000  # (trace_id, span_id) pairs per lookup: 2,000 bound parameters, far under both backends' limits
SHUTDOWN_DRAIN_S = 10.0
SQLITE_CACHE_KIB = 65_536
"""The writer's page cache, 64 MiB instead of SQLite's 2 MiB: random trace ids touch pages all over the indexes."""
SQLITE_CHECKPOINT_PAGES = 16_384
"""WAL pages (64 MiB) before the writer checkpoints, instead of 1,000: an index page changed by many commits is
copied into the database once per checkpoint, not once per commit (about 10% less CPU per span at ingest)."""


@dataclass(slots=True)
class Pending:
    rows: list[dict[str, Any]]
    done: asyncio.Future[None]


@dataclass
class IngestStats:
    """Counters for `GET /` and the logs."""

    stored: int = 0
    duplicates: int = 0
    refused_backlog: int = 0
    failed: int = 0
    commits: int = 0


@dataclass
class Ingester:
    """The backlog and its writer; `lock` is held by every write to the span tables (retention takes it too)."""

    db: Database
    max_pending_spans: int
    max_write_spans: int
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    stats: IngestStats = field(default_factory=IngestStats)
    pending_spans: int = 0
    _queue: deque[Pending] = field(default_factory=deque)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _closing: bool = False
    _conn: AsyncConnection | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="tracing-writer")

    async def submit(self, rows: list[dict[str, Any]]) -> None:
        """Queue the rows and wait until they are committed; BacklogFullError at once when there is no room."""
        if not rows:
            return
        # A request larger than the whole backlog is still taken when nothing waits: refused, it would be retried
        # forever.
        full = self.pending_spans and self.pending_spans + len(rows) > self.max_pending_spans
        if self._closing or full:
            self.stats.refused_backlog += len(rows)
            raise BacklogFullError(self.pending_spans, self.max_pending_spans)
        item = Pending(rows, asyncio.get_running_loop().create_future())
        self.pending_spans += len(rows)
        self._idle.clear()
        self._queue.append(item)
        self._wake.set()
        await asyncio.shield(item.done)  # a client that leaves does not cancel the write of what it sent

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                await self._write(self._take())

    def _take(self) -> list[Pending]:
        """The oldest requests, up to `max_write_spans` spans (always at least one request)."""
        batch = [self._queue.popleft()]
        count = len(batch[0].rows)
        while self._queue and count + len(self._queue[0].rows) <= self.max_write_spans:
            item = self._queue.popleft()
            batch.append(item)
            count += len(item.rows)
        return batch

    async def _write(self, batch: list[Pending]) -> None:
        try:
            await self._commit([row for item in batch for row in item.rows])
        except Exception as exc:
            if len(batch) == 1:
                self._fail(batch[0], exc)
            else:
                for item in batch:  # alone, so that one bad request fails only itself
                    try:
                        await self._commit(item.rows)
                    except Exception as alone:
                        self._fail(item, alone)
                    else:
                        _resolve(item)
        else:
            for item in batch:
                _resolve(item)
        finally:
            self.pending_spans -= sum(len(item.rows) for item in batch)
            if not self.pending_spans:
                self._idle.set()

    async def _commit(self, rows: list[dict[str, Any]]) -> None:
        async with self.lock:
            conn = await self._connection()
            try:
                async with conn.begin():
                    stored, duplicates = await write(conn, rows, now_us=time.time_ns() // 1000)
            except Exception:
                await self._disconnect()  # a broken connection is not reused; the next commit opens a new one
                raise
        self.stats.stored += stored
        self.stats.duplicates += duplicates
        self.stats.commits += 1

    async def _connection(self) -> AsyncConnection:
        """The writer's own connection, kept open between commits, so that its page cache (SQLITE_CACHE_KIB) is
        never emptied by another pooled connection's write and no batch pays a pool checkout and ping."""
        if self._conn is None:
            conn = await self.db.engine.connect()
            try:
                if conn.dialect.name == "sqlite":  # per connection, see SQLITE_CACHE_KIB and SQLITE_CHECKPOINT_PAGES
                    await conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
                    await conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
                    await conn.commit()
            except Exception:
                await conn.close()
                raise
            self._conn = conn
        return self._conn

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
                await conn.close()

    def _fail(self, item: Pending, exc: Exception) -> None:
        self.stats.failed += len(item.rows)
        logger.error("tracing.ingest.failed", extra={"spans": len(item.rows), "error_type": type(exc).__name__})
        if not item.done.done():
            item.done.set_exception(IngestFailedError())

    async def close(self) -> None:
        """Refuse new requests, commit what is queued (for a while), then stop the writer."""
        self._closing = True
        if self.pending_spans and self._task is not None and not self._task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), SHUTDOWN_DRAIN_S)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while self._queue:
            self._fail(self._queue.popleft(), RuntimeError("shutting down"))
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):
                await conn.close()


def _resolve(item: Pending) -> None:
    if not item.done.done():
        item.done.set_result(None)


async def write(conn: AsyncConnection, rows: list[dict[str, Any]], *, now_us: int) -> tuple[int, int]:
    """Store a batch in the open transaction: spans, tags, trace summaries, edges. (stored, duplicates)."""
    unique = list({(row["trace_id"], row["span_id"]): row for row in rows}.values())
    in_batch: dict[SpanKey, str] = {(row["trace_id"], row["span_id"]): row["service"] for row in unique}
    # Only a trace already stored can hold a duplicate, a parent or a child of these spans: a new trace's
    # spans need no span lookups at all (one probe per trace instead of three per span).
    known = await _stored_traces(conn, {row["trace_id"] for row in unique})
    wanted = {key for key in in_batch if key[0] in known}
    wanted.update(
        (row["trace_id"], row["parent_span_id"])
        for row in unique
        if row["parent_span_id"] is not None
        and row["trace_id"] in known
        and (row["trace_id"], row["parent_span_id"]) not in in_batch
    )
    stored = await _stored_services(conn, wanted)
    new = [row for row in unique if (row["trace_id"], row["span_id"]) not in stored]
    if new:
        parents = [(row["trace_id"], row["span_id"]) for row in new if row["trace_id"] in known]
        children = await _stored_children(conn, parents, in_batch)
        await bulk.insert_many(conn, SPAN_TABLE, SPAN_COLUMNS, _span_tuples(new, now_us), skip_existing=True)
        await bulk.insert_many(conn, TAG_TABLE, TAG_COLUMNS, tag_tuples(new), skip_existing=True)
        await summaries.upsert(conn, summaries.of(new))
        await service_map.record(conn, service_map.edges(new, {**stored, **in_batch}, children))
    return len(new), len(rows) - len(new)


def _chunks(keys: Iterable[SpanKey]) -> Iterable[list[SpanKey]]:
    ordered = sorted(keys)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        yield ordered[start : start + LOOKUP_CHUNK]


async def _stored_traces(conn: AsyncConnection, trace_ids: set[str]) -> set[str]:
    """Which of these traces already have a summary row (and so spans)."""
    found: set[str] = set()
    ordered = sorted(trace_ids)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        found.update(
            await bulk.select_in(conn, summaries.TRACE_TABLE, "trace_id", ordered[start : start + LOOKUP_CHUNK])
        )
    return found


async def _stored_services(conn: AsyncConnection, keys: set[SpanKey]) -> dict[SpanKey, str]:
    """The service of each of these spans that is already stored."""
    found: dict[SpanKey, str] = {}
    for chunk in _chunks(keys):
        result = await bulk.select_by_pairs(
            conn, SPAN_TABLE, ("trace_id", "span_id", "service"), ("trace_id", "span_id"), chunk
        )
        found.update({(trace_id, span_id): service for trace_id, span_id, service in result})
    return found


async def _stored_children(
    conn: AsyncConnection, parents: list[SpanKey], services: dict[SpanKey, str]
) -> list[tuple[str, Child]]:
    """Stored spans whose parent is one of `parents` (new spans), with the parent's service.

    The stored spans of the parents' traces are read through the primary key's trace id prefix (a trace holds a
    few spans) and matched here, rather than through an index on (trace id, parent span id) that every span
    would pay for at ingest."""
    wanted = set(parents)
    children: list[tuple[str, Child]] = []
    trace_ids = sorted({trace_id for trace_id, _ in parents})
    for start in range(0, len(trace_ids), LOOKUP_CHUNK):
        chunk = trace_ids[start : start + LOOKUP_CHUNK]
        result = await bulk.select_where_in(conn, SPAN_TABLE, CHILD_COLUMNS, "trace_id", chunk)
        for trace_id, parent, service, start_us, duration_us, status in result:
            if parent is not None and (trace_id, parent) in wanted:
                children.append((services[(trace_id, parent)], Child(service, start_us, duration_us, status)))
    return children


def tag_value(value: Any) -> str | None:
    """An attribute value as searchable text (strings, numbers, booleans), None for lists and maps."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value[:MAX_TAG_VALUE].replace("\x00", "")
    if isinstance(value, int | float):
        return str(value)[:MAX_TAG_VALUE]
    return None


def tag_tuples(rows: Iterable[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """The span_tag rows (TAG_COLUMNS order) of the spans' scalar attributes; retention derives the tags of the
    spans it deletes with it too."""
    tags = []
    for row in rows:
        trace_id, span_id = row["trace_id"], row["span_id"]
        for key, value in row["attributes"].items():
            if len(key) <= MAX_TAG_KEY and (text := tag_value(value)) is not None:
                tags.append((key, text, trace_id, span_id))
    return tags


def _span_tuples(rows: list[dict[str, Any]], now_us: int) -> list[tuple[Any, ...]]:
    """The span rows in SPAN_COLUMNS order, JSON as text (each resource, shared by its request's spans, once)."""
    resources: dict[int, str] = {}
    spans = []
    for row in rows:
        resource = row["resource"]
        if (resource_json := resources.get(id(resource))) is None:
            resource_json = resources[id(resource)] = _json(resource)
        spans.append(
            (
                row["trace_id"],
                row["span_id"],
                row["parent_span_id"],
                row["service"],
                row["operation"],
                row["kind"],
                row["start_us"],
                row["duration_us"],
                row["status"],
                row["status_message"],
                _json(row["attributes"]),
                _json(row["events"]) if row["events"] else "[]",
                resource_json,
                now_us,
            )
        )
    return spans
