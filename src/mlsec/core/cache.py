"""A small cache interface with two engines: process memory (embedded) and Redis (distributed).

Values are JSON documents, so both engines behave the same and nothing is ever unpickled.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from redis.asyncio import Redis

from mlsec.core.settings import Settings


class Cache(Protocol):
    """What services may ask of a cache."""

    backend: str

    async def get(self, key: str) -> Any | None: ...

    async def set(self, key: str, value: Any, ttl: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """A bounded in-process TTL cache; the least recently used entry goes first when full."""

    backend = "memory"

    def __init__(self, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()

    async def get(self, key: str) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, payload = entry
        if expires_at <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return json.loads(payload)

    async def set(self, key: str, value: Any, ttl: float) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self._entries[key] = (self._clock() + ttl, json.dumps(value))
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._entries.clear()


class RedisCache:
    """The same interface on Redis, shared by every replica; keys are namespaced."""

    backend = "redis"

    def __init__(self, redis: Redis, *, namespace: str):
        self.redis = redis
        self.prefix = f"mlsec:{namespace}:"

    async def get(self, key: str) -> Any | None:
        payload = await self.redis.get(self.prefix + key)
        return None if payload is None else json.loads(payload)

    async def set(self, key: str, value: Any, ttl: float) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        await self.redis.set(self.prefix + key, json.dumps(value), px=int(ttl * 1000))

    async def delete(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()


def create_redis(url: str, *, blocking_reads: bool = False) -> Redis:
    """A Redis client that fails fast on a dead server; `blocking_reads` for pub/sub listeners."""
    return Redis.from_url(
        url, socket_connect_timeout=3, socket_timeout=None if blocking_reads else 5, health_check_interval=30
    )


def create_cache(settings: Settings, *, namespace: str) -> Cache:
    """The cache the settings choose: Redis when configured, else process memory."""
    dsn = settings.redis_dsn
    if settings.uses_redis_cache:
        if dsn is None:
            raise ValueError("MLSEC_CACHE_BACKEND=redis needs REDIS_URL or REDIS_HOST")
        return RedisCache(create_redis(dsn), namespace=namespace)
    return MemoryCache()
