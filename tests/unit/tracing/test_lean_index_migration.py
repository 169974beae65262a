"""Migration tracing_0003 rebuilds the span tags as one keyed b-tree and keeps every tag stored before it, on
SQLite and (when configured) PostgreSQL; a search by tag still finds those traces, and retention still deletes
their tags."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from mlsec.core.database import Database, ensure_database
from mlsec.core.migrations import alembic_config, upgrade_to_head
from mlsec.core.settings import Settings
from mlsec.services.tracing.service import retention

pytestmark = pytest.mark.anyio
TRACE = "a" * 32


def _to(connection: Any, revision: str) -> None:
    command.upgrade(alembic_config("tracing", connection=connection), revision)


def _table(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(column) for column in columns))


async def test_tags_stored_before_the_migration_are_kept_and_deleted_with_their_trace(db_settings: Settings) -> None:
    url = db_settings.database_url_for("tracing")
    await ensure_database(url)
    db = Database(url)
    attributes = {"http.route": "/predict", "mlsec.model.version": 3, "ok": True}
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(_to, "tracing_0002")
            span = sa.table(
                "span",
                *(sa.column(c) for c in ("trace_id", "span_id", "service", "operation", "kind", "start_us")),
                *(sa.column(c) for c in ("duration_us", "status", "received_us")),
                sa.column("attributes", sa.JSON),
                sa.column("events", sa.JSON),
                sa.column("resource", sa.JSON),
            )
            await conn.execute(
                sa.insert(span),
                [
                    {"trace_id": TRACE, "span_id": f"{i:016x}", "service": "gateway", "operation": "POST /predict",
                     "kind": "server", "start_us": 1_000 + i, "duration_us": 10, "status": 0, "received_us": 2_000,
                     "attributes": attributes, "events": [], "resource": {}}
                    for i in range(2)
                ],
            )  # fmt: skip
            tags = _table("span_tag", "trace_id", "span_id", "key", "value", "start_us")
            await conn.execute(
                sa.insert(tags),
                [
                    {"trace_id": TRACE, "span_id": f"{i:016x}", "key": key, "value": value, "start_us": 1_000 + i}
                    for i in range(2)
                    for key, value in (("http.route", "/predict"), ("mlsec.model.version", "3"), ("ok", "true"))
                ],
            )
        await upgrade_to_head(db, "tracing")
        async with db.engine.connect() as conn:
            kept = (await conn.execute(sa.text("SELECT key, value, trace_id, span_id FROM span_tag"))).all()
        assert sorted(kept) == sorted(
            (key, value, TRACE, f"{i:016x}")
            for i in range(2)
            for key, value in (("http.route", "/predict"), ("mlsec.model.version", "3"), ("ok", "true"))
        )
        async with db.engine.begin() as conn:
            assert await retention.delete_traces(conn, [TRACE]) == 2
        async with db.engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT count(*) FROM span_tag"))).scalar_one() == 0
    finally:
        await db.dispose()
