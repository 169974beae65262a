"""Where the collector stopped reading each source, stored with what it wrote in the same transaction: after a
restart it goes on from there, never counting a record twice nor skipping one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.business_metrics.models import CollectCursor


async def get(session: AsyncSession, source: str) -> Any:
    """The stored value of a source's cursor (decoded JSON), None before its first read."""
    value = await session.scalar(select(CollectCursor.value).where(CollectCursor.source == source))
    return None if value is None else json.loads(value)


async def update(session: AsyncSession, source: str, value: Any) -> None:
    """Store a source's cursor (any JSON value)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    row = {"source": source, "value": json.dumps(value, sort_keys=True), "updated_at": datetime.now(UTC)}
    statement = insert(CollectCursor).values(row)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["source"],
            set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
        )
    )


async def get_all(session: AsyncSession) -> dict[str, datetime]:
    """Every cursor's last update time, by source."""
    rows = await session.execute(select(CollectCursor.source, CollectCursor.updated_at))
    return {str(source): updated_at for source, updated_at in rows.all()}
