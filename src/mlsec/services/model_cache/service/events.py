"""The cache's event log: what the repository did to models (loaded, load_failed, unloaded, evicted,
swapped), stored as it happens and read back newest first."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.database import Database
from mlsec.services.model_cache.models import CacheEvent
from mlsec.serving.reports import ServingEvent


async def get_all(
    session: AsyncSession, *, model_name: str | None, kind: str | None, limit: int
) -> Sequence[CacheEvent]:
    """The newest events first."""
    query = select(CacheEvent)
    if model_name:
        query = query.where(CacheEvent.model_name == model_name)
    if kind:
        query = query.where(CacheEvent.kind == kind)
    return (await session.execute(query.order_by(CacheEvent.id.desc()).limit(limit))).scalars().all()


class EventRecorder:
    """Stores the repository's events in the background (its callback must not wait)."""

    def __init__(self, db: Database):
        self.db = db
        self._tasks: set[asyncio.Task[None]] = set()

    def __call__(self, event: ServingEvent) -> None:
        task = asyncio.get_running_loop().create_task(self._store(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _store(self, event: ServingEvent) -> None:
        async with self.db.session() as session:
            session.add(
                CacheEvent(
                    created_at=event.at,
                    kind=event.kind,
                    model_name=event.name,
                    model_version=event.version,
                    detail=event.detail,
                )
            )

    async def close(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)
