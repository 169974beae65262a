"""The service map's edges, written at ingest: a span whose parent is another service's span is one call from
the parent's service to its own, counted in the child's minute.

Parent and child arrive in any order (different services export on their own schedules), so each new span is
looked at from both sides: as a child, against its parent in the same batch or already stored; as a parent,
against its children already stored. A pair is counted exactly once: when the second of the two arrives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from mlsec.services.tracing.models import ServiceEdge

MINUTE_US = 60_000_000
SpanKey = tuple[str, str]
"""(trace_id, span_id)."""


@dataclass(frozen=True, slots=True)
class Child:
    """What an edge needs of the calling side's callee: its service, minute, outcome and duration."""

    service: str
    start_us: int
    duration_us: int
    status: int


def edges(
    new: Iterable[dict[str, Any]],
    services: Mapping[SpanKey, str],
    stored_children: Iterable[tuple[str, Child]],
) -> list[dict[str, Any]]:
    """The edge rows the new spans complete, summed per (minute, source, target).

    `services` gives the service of every span a new span may name as parent (the batch's and the stored ones);
    `stored_children` are (parent's service, child) pairs of already stored children of new spans."""
    calls: dict[tuple[int, str, str], list[int]] = {}

    def add(source: str, child: Child) -> None:
        if source == child.service:
            return
        key = (child.start_us // MINUTE_US, source, child.service)
        row = calls.setdefault(key, [0, 0, 0, 0])
        row[0] += 1
        row[1] += child.status == 2
        row[2] += child.duration_us
        row[3] = max(row[3], child.duration_us)

    for span in new:
        parent = span["parent_span_id"]
        if parent is not None and (source := services.get((span["trace_id"], parent))) is not None:
            add(source, Child(span["service"], span["start_us"], span["duration_us"], span["status"]))
    for source, child in stored_children:
        add(source, child)
    return [
        {
            "minute": minute,
            "source": source,
            "target": target,
            "calls": count,
            "errors": errors,
            "duration_us_sum": total,
            "duration_us_max": longest,
        }
        for (minute, source, target), (count, errors, total, longest) in calls.items()
    ]


async def record(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Add the edge rows to the stored minutes (insert, or add to the calls already counted)."""
    if not rows:
        return
    table = ServiceEdge.__table__
    dialect = conn.dialect.name
    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    greatest = func.greatest if dialect == "postgresql" else func.max
    stmt = stmt.on_conflict_do_update(
        index_elements=["minute", "source", "target"],
        set_={
            "calls": table.c.calls + stmt.excluded.calls,
            "errors": table.c.errors + stmt.excluded.errors,
            "duration_us_sum": table.c.duration_us_sum + stmt.excluded.duration_us_sum,
            "duration_us_max": greatest(table.c.duration_us_max, stmt.excluded.duration_us_max),
        },
    )
    await conn.execute(stmt, rows)
