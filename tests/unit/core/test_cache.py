"""Both cache engines keep the same promises: JSON values, TTLs, namespaces."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from mlsec.core.cache import Cache, MemoryCache, RedisCache, create_cache, create_redis
from mlsec.core.settings import Settings

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        engine: Cache = MemoryCache()
    else:
        url = request.getfixturevalue("redis_server_url")
        engine = RedisCache(create_redis(url), namespace=f"test-{uuid.uuid4().hex}")
    yield engine
    await engine.close()


async def test_round_trips_json_values(cache: Cache) -> None:
    value = {"models": ["a", "b"], "count": 2, "ok": True, "score": 0.5}
    await cache.set("k", value, ttl=10)
    assert await cache.get("k") == value
    assert await cache.get("missing") is None


async def test_entries_expire(cache: Cache) -> None:
    await cache.set("short", 1, ttl=0.05)
    await asyncio.sleep(0.1)
    assert await cache.get("short") is None


async def test_delete_and_invalid_ttl(cache: Cache) -> None:
    await cache.set("k", 1, ttl=10)
    await cache.delete("k")
    assert await cache.get("k") is None
    with pytest.raises(ValueError, match="ttl"):
        await cache.set("k", 1, ttl=0)


async def test_memory_cache_evicts_least_recently_used() -> None:
    cache = MemoryCache(max_entries=2)
    await cache.set("a", 1, ttl=10)
    await cache.set("b", 2, ttl=10)
    await cache.get("a")
    await cache.set("c", 3, ttl=10)
    assert await cache.get("b") is None
    assert await cache.get("a") == 1


async def test_redis_namespaces_do_not_collide(redis_server_url: str) -> None:
    one = RedisCache(create_redis(redis_server_url), namespace=f"one-{uuid.uuid4().hex}")
    two = RedisCache(create_redis(redis_server_url), namespace=f"two-{uuid.uuid4().hex}")
    try:
        await one.set("k", "from one", ttl=10)
        assert await two.get("k") is None
    finally:
        await one.close()
        await two.close()


def test_factory_follows_the_settings(settings: Settings) -> None:
    assert isinstance(create_cache(settings, namespace="x"), MemoryCache)
    with_redis = settings.model_copy(update={"redis_host": "localhost"})
    assert create_cache(with_redis, namespace="x").backend == "redis"
    forced = settings.model_copy(update={"cache_backend": "redis"})
    with pytest.raises(ValueError, match="REDIS_URL or REDIS_HOST"):
        create_cache(forced, namespace="x")
