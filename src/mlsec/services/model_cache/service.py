"""The model cache's own state: its stored config (policy) and its event log."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.database import Database
from mlsec.services.model_cache.models import CacheConfig, CacheEvent
from mlsec.services.model_cache.schemas import CacheConfigBody
from mlsec.services.model_cache.settings import ModelCacheSettings
from mlsec.serving.repository import ServingEvent, ServingPolicy

MB = 1024 * 1024
CONFIG_ROW = 1


def policy_of(config: CacheConfigBody) -> ServingPolicy:
    return ServingPolicy(
        memory_budget_bytes=int(config.memory_budget_mb * MB),
        idle_ttl_seconds=config.idle_ttl_seconds,
        preload=list(config.preload),
        preload_champions=config.preload_champions,
    )


def config_from_settings(settings: ModelCacheSettings) -> CacheConfigBody:
    return CacheConfigBody(
        memory_budget_mb=settings.memory_budget_mb,
        idle_ttl_seconds=settings.idle_ttl_seconds,
        preload=settings.preload,
        preload_champions=settings.preload_champions,
    )


async def get_config_row(session: AsyncSession) -> CacheConfig | None:
    return await session.get(CacheConfig, CONFIG_ROW)


async def put_config(session: AsyncSession, config: CacheConfigBody) -> CacheConfig:
    """Store the config (one row), so that it survives a restart."""
    row = await session.get(CacheConfig, CONFIG_ROW)
    if row is None:
        row = CacheConfig(id=CONFIG_ROW, config=config.model_dump())
        session.add(row)
    else:
        row.config = config.model_dump()
    await session.flush()
    return row


async def get_events(
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
