"""The cache's configuration: the serving policy it stands for, and its one stored row (kept across restarts)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.model_cache.models import CacheConfig
from mlsec.services.model_cache.schemas.config import CacheConfigBody
from mlsec.services.model_cache.settings import ModelCacheSettings
from mlsec.serving.policy import ServingPolicy

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


async def get(session: AsyncSession) -> CacheConfig | None:
    """The stored config, None until one was stored."""
    return await session.get(CacheConfig, CONFIG_ROW)


async def update(session: AsyncSession, config: CacheConfigBody) -> CacheConfig:
    """Store the config (one row, created on first use), so that it survives a restart."""
    row = await session.get(CacheConfig, CONFIG_ROW)
    if row is None:
        row = CacheConfig(id=CONFIG_ROW, config=config.model_dump())
        session.add(row)
    else:
        row.config = config.model_dump()
    await session.flush()
    return row
