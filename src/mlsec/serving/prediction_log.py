"""The prediction log: every prediction recorded asynchronously, never in the request's way.

Records wait in a bounded queue and are written in batches by one background task. When the queue
is full (the store is slow or down), a record is dropped and counted; a prediction never waits on
the log. The model API and the model cache each keep this table in their own database; analytics
and business metrics read it through their APIs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    or_,
    select,
)

from mlsec.core.database import Database, UtcDateTime
from mlsec.core.traffic import PRODUCTION

TABLE = "prediction_log"
DELETE_BATCH = 5_000
"""Rows one DELETE removes at most: a big cleanup is many short transactions, never one long lock on the table."""
HASHES_PER_STATEMENT = 250
"""Subject hashes one SELECT looks for (one `LIKE` each): well inside SQLite's expression depth and bind limits."""
Prepare = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
"""Turns queued records into rows, off the request path, in a thread (e.g. computing drift features)."""
logger = logging.getLogger("mlsec.prediction_log")


def _first_columns() -> list[Column[Any]]:
    """The columns of the table's first revision (what `create_table_in_migration` creates)."""
    return [
        # BIGINT ids on PostgreSQL; SQLite only auto-increments an INTEGER primary key.
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("model_name", String(100), nullable=False),
        Column("model_version", String(32), nullable=False),
        Column("label", String(100), nullable=True),
        Column("score", Float, nullable=True),
        Column("latency_ms", Float, nullable=False),
        Column("input_sha256", String(64), nullable=False),
        Column("features", JSON, nullable=False),
        Column("text", Text, nullable=True),
        Column("request_id", String(128), nullable=True),
        Column("source", String(32), nullable=False),
    ]


def _traffic_class_column() -> Column[Any]:
    """mlsec.core.traffic: only production rows feed drift, performance, retraining and business figures."""
    return Column("traffic_class", String(16), nullable=False, server_default=PRODUCTION)


def _trace_id_column() -> Column[Any]:
    """The request's trace (32 hex digits), so a slow or wrong prediction leads to its trace; null outside one."""
    return Column("trace_id", String(32), nullable=True)


def prediction_log_columns() -> list[Column[Any]]:
    """The columns as they are now (the table definition); each later column has its own migration."""
    return [*_first_columns(), _traffic_class_column(), _trace_id_column()]


def prediction_log_table(metadata: MetaData) -> Table:
    """The prediction log table on a service's metadata."""
    return Table(
        TABLE,
        metadata,
        *prediction_log_columns(),
        Index("ix_prediction_log_model_created", "model_name", "created_at"),
        Index("ix_prediction_log_created_at", "created_at"),
    )


class PredictionLogMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.written = Counter("mlsec_prediction_log_written_total", "Prediction records stored.", registry=registry)
        self.dropped = Counter(
            "mlsec_prediction_log_dropped_total",
            "Prediction records dropped: queue full or store failing.",
            ("reason",),
            registry=registry,
        )
        self.queued = Gauge("mlsec_prediction_log_queue", "Prediction records waiting to be stored.", registry=registry)


class PredictionLog:
    """Bounded queue in front of the table, drained in batches by one task."""

    def __init__(
        self,
        db: Database,
        table: Table,
        *,
        metrics: PredictionLogMetrics,
        max_queue: int = 10_000,
        batch_size: int = 500,
        flush_interval: float = 0.5,
        prepare: Prepare | None = None,
    ):
        self.db = db
        self.prepare = prepare
        self.table = table
        self.metrics = metrics
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=max_queue)
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        self.written = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="prediction-log-writer")

    def record(self, row: Mapping[str, Any]) -> bool:
        """Queue one record without waiting; False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait(dict(row))
        except asyncio.QueueFull:
            self._drop("queue_full", 1)
            return False
        self.metrics.queued.set(self._queue.qsize())
        return True

    def _drop(self, reason: str, count: int) -> None:
        self.dropped += count
        self.metrics.dropped.labels(reason).inc(count)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.flush_interval):
                    while len(batch) < self.batch_size:
                        batch.append(await self._queue.get())
            await self._write(batch)

    async def _write(self, batch: list[dict[str, Any]]) -> None:
        try:
            rows = await anyio.to_thread.run_sync(self.prepare, batch) if self.prepare else batch
            async with self.db.engine.begin() as conn:
                await conn.execute(insert(self.table), rows)
        except Exception as exc:  # the store is down: these records are lost, the service goes on
            self._drop("store_error", len(batch))
            logger.warning(
                "prediction_log.write_failed", extra={"records": len(batch), "error_type": type(exc).__name__}
            )
        else:
            self.written += len(batch)
            self.metrics.written.inc(len(batch))
        finally:
            for _ in batch:
                self._queue.task_done()
            self.metrics.queued.set(self._queue.qsize())

    async def flush(self, within: float = 5.0) -> None:
        """Wait until everything queued has been written (or dropped)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), within)

    async def close(self) -> None:
        await self.flush(within=5.0)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def create_table_in_migration(op: Any) -> None:
    """Create the table (as of its first revision) and its indexes from an Alembic migration."""
    op.create_table(TABLE, *_first_columns())
    op.create_index("ix_prediction_log_model_created", TABLE, ["model_name", "created_at"])
    op.create_index("ix_prediction_log_created_at", TABLE, ["created_at"])


def drop_table_in_migration(op: Any) -> None:
    op.drop_table(TABLE)


def add_traffic_class_in_migration(op: Any) -> None:
    """Add the traffic class to an existing log: every earlier row counts as production, as it did."""
    op.add_column(TABLE, _traffic_class_column())


def drop_traffic_class_in_migration(op: Any) -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("traffic_class")


def add_trace_id_in_migration(op: Any) -> None:
    """Add the trace id: earlier rows have none."""
    op.add_column(TABLE, _trace_id_column())


def drop_trace_id_in_migration(op: Any) -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("trace_id")


async def read_records(
    db: Database,
    table: Table,
    *,
    model_name: str,
    since: datetime | None = None,
    until: datetime | None = None,
    after_id: int = 0,
    limit: int = 1000,
    newest_first: bool = False,
    include_text: bool = False,
    traffic_class: str | None = None,
) -> list[dict[str, Any]]:
    """Records of one model, by id (oldest first, or newest first); `after_id` pages forward in id order;
    of one traffic class, or of every class (None).

    The text is returned only when asked for (and only exists when the service stores texts)."""
    columns = [c for c in table.c if include_text or c.name != "text"]
    query = select(*columns).where(table.c.model_name == model_name, table.c.id > after_id)
    if traffic_class is not None:
        query = query.where(table.c.traffic_class == traffic_class)
    if since is not None:
        query = query.where(table.c.created_at >= since)
    if until is not None:
        query = query.where(table.c.created_at < until)
    query = query.order_by(table.c.id.desc() if newest_first else table.c.id).limit(limit)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [dict(row) for row in rows]


@dataclass(frozen=True)
class LogStats:
    """How much the log holds: rows, rows that keep their text, and the oldest row's time."""

    rows: int
    rows_with_text: int
    oldest: datetime | None


async def get_stats(db: Database, table: Table) -> LogStats:
    """The log's size in one query (a count of the non-null texts beside the count of rows)."""
    query = select(func.count(), func.count(table.c.text), func.min(table.c.created_at))
    async with db.engine.connect() as conn:
        rows, with_text, oldest = (await conn.execute(query)).one()
    return LogStats(rows=int(rows), rows_with_text=int(with_text), oldest=oldest)


async def get_ids_carrying(db: Database, table: Table, hashes: Collection[str]) -> set[int]:
    """Ids of the rows whose stored text carries any of the subject hashes as `<TYPE:hash>`.

    The caller validates each hash (32 hex digits, mlsec.ml.pii.subjects.HASH_PATTERN), so the `LIKE` pattern
    holds no wildcard of its own; it is a bound parameter, never part of the statement's text."""
    ordered = sorted(set(hashes))
    found: set[int] = set()
    async with db.engine.connect() as conn:
        for start in range(0, len(ordered), HASHES_PER_STATEMENT):
            patterns = [table.c.text.like(f"%:{value}>%") for value in ordered[start : start + HASHES_PER_STATEMENT]]
            query = select(table.c.id).where(table.c.text.is_not(None), or_(*patterns))
            found.update(int(row_id) for row_id in (await conn.execute(query)).scalars())
    return found


async def delete_ids(db: Database, table: Table, ids: Collection[int]) -> int:
    """Delete these rows, `DELETE_BATCH` per transaction; how many were deleted."""
    ordered: Sequence[int] = sorted(ids)
    deleted = 0
    for start in range(0, len(ordered), DELETE_BATCH):
        async with db.engine.begin() as conn:
            result = await conn.execute(delete(table).where(table.c.id.in_(ordered[start : start + DELETE_BATCH])))
        deleted += result.rowcount
    return deleted


async def get_count_older_than(db: Database, table: Table, cutoff: datetime) -> int:
    """Rows logged before `cutoff` (the created_at index answers it)."""
    query = select(func.count()).select_from(table).where(table.c.created_at < cutoff)
    async with db.engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def delete_older_than(db: Database, table: Table, cutoff: datetime) -> int:
    """Delete the rows logged before `cutoff`, `DELETE_BATCH` per transaction, until none is left; how many.

    Rows the writer inserts meanwhile are newer than any sensible cutoff, so the loop ends."""
    deleted = 0
    while True:
        batch = select(table.c.id).where(table.c.created_at < cutoff).limit(DELETE_BATCH)
        async with db.engine.begin() as conn:
            result = await conn.execute(delete(table).where(table.c.id.in_(batch)))
        deleted += result.rowcount
        if result.rowcount < DELETE_BATCH:
            return deleted
