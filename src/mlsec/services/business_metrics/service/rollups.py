"""Writers and readers of the rollup tables.

Every write names a minute and adds its deltas to that minute's row and to the rows of its hour and day, in
one transaction, by upsert (counters are added in SQL; a latency sketch is merged in Python from the stored
one). A reader asks for one resolution and gets the buckets whose start lies in the period.

The functions take an `AsyncSession` (a request's, or a background round's `db.session()`), or an
`AsyncConnection`; they never commit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, delete, func, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from mlsec.services.business_metrics.models import EventRollup, FeedbackRollup, PredictionRollup, ServiceRollup
from mlsec.services.business_metrics.service.period import (
    RESOLUTION_MINUTES,
    RESOLUTIONS,
    Period,
    Resolution,
    bucket_of,
    bucket_start,
)
from mlsec.services.business_metrics.service.sketch import LatencySketch

Db = AsyncSession | AsyncConnection
PREDICTION = cast(Table, PredictionRollup.__table__)
SERVICE = cast(Table, ServiceRollup.__table__)
FEEDBACK = cast(Table, FeedbackRollup.__table__)
EVENT = cast(Table, EventRollup.__table__)
KEYS_PER_QUERY = 500
"""Stored sketches read per query while merging (5 bound parameters each: under every backend's limit)."""
EVENT_KINDS = ("retrain", "promotion", "drift_alert", "sla_breach")
SERVICE_COUNTERS = (
    "probes",
    "healthy_probes",
    "observed_s",
    "down_s",
    "outages",
    "cpu_s",
    "memory_gib_minutes",
    "requests",
    "errors",
    "prediction_requests",
    "prediction_errors",
)


@dataclass(frozen=True)
class PredictionSample:
    """One logged production prediction."""

    at: datetime
    service: str
    model_name: str
    model_version: str
    label: str | None
    latency_ms: float


@dataclass(frozen=True)
class ServiceSample:
    """One probe of a service and the deltas of its counters since the previous probe (`interval_s` ago)."""

    healthy: bool
    interval_s: float
    was_healthy: bool | None = None
    cpu_s: float = 0.0
    memory_gib: float = 0.0
    requests: int = 0
    errors: int = 0
    prediction_requests: int = 0
    prediction_errors: int = 0


@dataclass
class PredictionBucket:
    start: datetime
    service: str
    model_name: str
    model_version: str
    predictions: int
    threats: int
    latency_ms_sum: float
    sketch: LatencySketch


@dataclass
class ServiceBucket:
    start: datetime
    service: str
    probes: int
    healthy_probes: int
    observed_s: float
    down_s: float
    outages: int
    cpu_s: float
    memory_gib_minutes: float
    requests: int
    errors: int
    prediction_requests: int
    prediction_errors: int


@dataclass
class FeedbackBucket:
    start: datetime
    model_name: str
    model_version: str
    tp: int
    fp: int
    tn: int
    fn: int


@dataclass
class EventBucket:
    start: datetime
    kind: str
    model_name: str
    count: int


def _dialect(db: Db) -> str:
    if isinstance(db, AsyncConnection):
        return db.dialect.name
    return db.get_bind().dialect.name


def _buckets(at: datetime) -> list[tuple[Resolution, int]]:
    return [(resolution, bucket_of(at, resolution)) for resolution in RESOLUTIONS]


async def _add(
    db: Db, table: Table, keys: Sequence[str], rows: list[dict[str, Any]], replace: Sequence[str] = ()
) -> None:
    """Upsert `rows`: columns not in `keys` are added to the stored row's, those in `replace` overwrite it."""
    if not rows:
        return
    insert = postgresql.insert if _dialect(db) == "postgresql" else sqlite.insert
    for first in range(0, len(rows), KEYS_PER_QUERY):
        statement = insert(table).values(rows[first : first + KEYS_PER_QUERY])
        updates = {
            column: statement.excluded[column] if column in replace else table.c[column] + statement.excluded[column]
            for column in rows[0]
            if column not in keys
        }
        await db.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=updates))


async def add_predictions(db: Db, samples: Iterable[PredictionSample], benign_labels: frozenset[str]) -> None:
    """Count production predictions in their minute, hour and day (per service and model version)."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    sketches: dict[tuple[Any, ...], LatencySketch] = {}
    for sample in samples:
        for resolution, bucket in _buckets(sample.at):
            key = (resolution, bucket, sample.service, sample.model_name, sample.model_version)
            row = rows.get(key)
            if row is None:
                row = rows[key] = {"predictions": 0, "threats": 0, "latency_ms_sum": 0.0}
                sketches[key] = LatencySketch()
            row["predictions"] += 1
            row["threats"] += int(sample.label is not None and sample.label not in benign_labels)
            row["latency_ms_sum"] += sample.latency_ms
            sketches[key].add(sample.latency_ms)
    if not rows:
        return
    table = PREDICTION
    columns = ("resolution", "bucket", "service", "model_name", "model_version")
    keys = list(rows)
    for first in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[first : first + KEYS_PER_QUERY]
        stored = await db.execute(
            select(*(table.c[c] for c in columns), table.c.latency_sketch).where(
                tuple_(*(table.c[c] for c in columns)).in_(chunk)
            )
        )
        for found in stored.all():
            stored_key: tuple[Any, ...] = tuple(found)
            sketches[stored_key[:-1]].merge(LatencySketch.from_json(stored_key[-1]))
    values = [
        {**dict(zip(columns, key, strict=True)), **row, "latency_sketch": sketches[key].to_json()}
        for key, row in rows.items()
    ]
    await _add(db, table, columns, values, replace=("latency_sketch",))


def down_seconds(sample: ServiceSample) -> float:
    """The seconds down since the previous probe: all of them between two probes that found the service down,
    none between two that found it up, and half when the state changed in between (the midpoint estimate: an
    outage's start and end are each known to one probe interval, and half of it is the estimate that is never
    biased towards longer or shorter outages)."""
    if sample.was_healthy is None:
        return 0.0 if sample.healthy else sample.interval_s
    if sample.healthy == sample.was_healthy:
        return 0.0 if sample.healthy else sample.interval_s
    return sample.interval_s / 2


async def add_service_sample(db: Db, service: str, at: datetime, sample: ServiceSample) -> None:
    """Count one probe of a service (and its counters' deltas) in the minute, hour and day of `at`."""
    down = not sample.healthy
    deltas = {
        "probes": 1,
        "healthy_probes": int(sample.healthy),
        "observed_s": sample.interval_s,
        "down_s": down_seconds(sample),
        "outages": int(down and sample.was_healthy is True),
        "cpu_s": sample.cpu_s,
        "memory_gib_minutes": sample.memory_gib * sample.interval_s / 60,
        "requests": sample.requests,
        "errors": sample.errors,
        "prediction_requests": sample.prediction_requests,
        "prediction_errors": sample.prediction_errors,
    }
    rows = [{"resolution": r, "bucket": b, "service": service, **deltas} for r, b in _buckets(at)]
    await _add(db, SERVICE, ("resolution", "bucket", "service"), rows)


async def add_feedback(
    db: Db, at: datetime, model_name: str, model_version: str, *, tp: int = 0, fp: int = 0, tn: int = 0, fn: int = 0
) -> None:
    """Count labelled feedback of a model version (positive: a threat) in the minute, hour and day of `at`."""
    key = {"model_name": model_name, "model_version": model_version}
    rows = [{"resolution": r, "bucket": b, **key, "tp": tp, "fp": fp, "tn": tn, "fn": fn} for r, b in _buckets(at)]
    await _add(db, FEEDBACK, ("resolution", "bucket", "model_name", "model_version"), rows)


async def add_event(db: Db, at: datetime, kind: str, model_name: str, count: int = 1) -> None:
    """Count `count` events of a kind (EVENT_KINDS) about a model in the minute, hour and day of `at`."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}; known: {', '.join(EVENT_KINDS)}")
    rows = [
        {"resolution": r, "bucket": b, "kind": kind, "model_name": model_name, "count": count} for r, b in _buckets(at)
    ]
    await _add(db, EVENT, ("resolution", "bucket", "kind", "model_name"), rows)


def _in_period(table: Table, period: Period, resolution: Resolution) -> ColumnElement[bool]:
    """Buckets of the resolution whose start is in [start, end)."""
    first = math.ceil(period.start.timestamp() / 60)
    last = math.ceil(period.end.timestamp() / 60)
    return and_(table.c.resolution == resolution, table.c.bucket >= first, table.c.bucket < last)


def _filters(table: Table, **equal: str | None) -> list[ColumnElement[bool]]:
    return [table.c[name] == value for name, value in equal.items() if value is not None]


async def _rows(db: Db, table: Table, period: Period, resolution: Resolution, **equal: str | None) -> list[Any]:
    statement = select(table).where(_in_period(table, period, resolution), *_filters(table, **equal))
    return list((await db.execute(statement.order_by(table.c.bucket))).mappings().all())


async def get_predictions(
    db: Db,
    period: Period,
    resolution: Resolution,
    *,
    model_name: str | None = None,
    model_version: str | None = None,
    service: str | None = None,
) -> list[PredictionBucket]:
    """Prediction buckets of the period, oldest first (one per service and model version)."""
    rows = await _rows(
        db,
        PREDICTION,
        period,
        resolution,
        model_name=model_name,
        model_version=model_version,
        service=service,
    )
    return [
        PredictionBucket(
            start=bucket_start(row["bucket"]),
            service=row["service"],
            model_name=row["model_name"],
            model_version=row["model_version"],
            predictions=row["predictions"],
            threats=row["threats"],
            latency_ms_sum=row["latency_ms_sum"],
            sketch=LatencySketch.from_json(row["latency_sketch"]),
        )
        for row in rows
    ]


async def get_services(
    db: Db, period: Period, resolution: Resolution, *, service: str | None = None
) -> list[ServiceBucket]:
    """Service buckets of the period, oldest first."""
    rows = await _rows(db, SERVICE, period, resolution, service=service)
    return [
        ServiceBucket(
            start=bucket_start(row["bucket"]), service=row["service"], **{c: row[c] for c in SERVICE_COUNTERS}
        )
        for row in rows
    ]


async def get_feedback(
    db: Db, period: Period, resolution: Resolution, *, model_name: str | None = None, model_version: str | None = None
) -> list[FeedbackBucket]:
    """Feedback buckets of the period, oldest first (one per model version)."""
    rows = await _rows(db, FEEDBACK, period, resolution, model_name=model_name, model_version=model_version)
    return [
        FeedbackBucket(
            start=bucket_start(row["bucket"]),
            model_name=row["model_name"],
            model_version=row["model_version"],
            tp=row["tp"],
            fp=row["fp"],
            tn=row["tn"],
            fn=row["fn"],
        )
        for row in rows
    ]


async def get_events(
    db: Db, period: Period, resolution: Resolution, *, kind: str | None = None, model_name: str | None = None
) -> list[EventBucket]:
    """Event buckets of the period, oldest first (one per kind and model)."""
    rows = await _rows(db, EVENT, period, resolution, kind=kind, model_name=model_name)
    return [
        EventBucket(
            start=bucket_start(row["bucket"]), kind=row["kind"], model_name=row["model_name"], count=row["count"]
        )
        for row in rows
    ]


ROLLUP_TABLES: tuple[Table, ...] = (
    PREDICTION,
    SERVICE,
    FEEDBACK,
    EVENT,
)


async def delete_expired(db: Db, now: datetime, retention_days: dict[Resolution, int]) -> int:
    """Delete the buckets older than each resolution's retention; how many rows went."""
    removed = 0
    for table in ROLLUP_TABLES:
        expired = or_(
            *(
                and_(table.c.resolution == resolution, table.c.bucket < bucket_of(now) - days * 1440)
                for resolution, days in retention_days.items()
            )
        )
        result = await db.execute(delete(table).where(expired))
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


async def count_rows(db: Db) -> dict[str, dict[str, int]]:
    """Rows stored per table and resolution."""
    counts: dict[str, dict[str, int]] = {}
    for table in ROLLUP_TABLES:
        found: dict[str, int] = dict.fromkeys(RESOLUTIONS, 0)
        result = await db.execute(select(table.c.resolution, func.count()).group_by(table.c.resolution))
        for resolution, count in result.all():
            found[resolution] = int(count)
        counts[table.name] = found
    return counts


__all__ = [
    "EVENT_KINDS",
    "RESOLUTION_MINUTES",
    "EventBucket",
    "FeedbackBucket",
    "PredictionBucket",
    "PredictionSample",
    "ServiceBucket",
    "ServiceSample",
    "add_event",
    "add_feedback",
    "add_predictions",
    "add_service_sample",
    "count_rows",
    "delete_expired",
    "get_events",
    "get_feedback",
    "get_predictions",
    "get_services",
]
