"""Rate limits with the `limits` library (sliding window counter), in process memory or in Redis.

Embedded mode keeps the counters in memory (one process, nothing to install); distributed mode
keeps them in Redis so that every replica counts against the same window. The sliding window
counter weighs the previous window's count by how much of it still overlaps the last period, so a
client cannot burst twice the limit at a window edge (as a fixed window allows), and costs two
counters per key whatever the limit. The exact moving window keeps one timestamp per hit; measured
on the gateway, its in-memory store cost 14% of the CPU of a forwarded prediction (it expires
entries through a thread per hit), so it is not used.

When Redis cannot be reached, requests are let through (and a warning is logged, at most every
30 s): a rate limit protects capacity, and refusing every request because the counter store is
down would turn a Redis outage into a platform outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

import limits
from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio import Redis

from mlsec.core.cache import create_redis
from mlsec.core.settings import Settings

logger = logging.getLogger("mlsec.ratelimit")
WARN_EVERY_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The answer to one hit: allowed or not, and when a refused caller may retry (whole seconds)."""

    allowed: bool
    retry_after_seconds: int


@lru_cache(maxsize=256)
def parse_limit(text: str) -> RateLimitItem:
    """A limit such as "600/minute" or "10 per second"; ValueError when it cannot be read."""
    try:
        return limits.parse(text)
    except ValueError:
        raise ValueError(f"not a rate limit: {text!r} (expected e.g. '600/minute')") from None


class RateLimiter:
    """Counts hits per key against a limit in a sliding window."""

    def __init__(self, storage: Storage, *, namespace: str, redis: Redis | None = None):
        self.storage = storage
        self.namespace = namespace
        self.backend = "redis" if redis is not None else "memory"
        self._strategy = SlidingWindowCounterRateLimiter(storage)
        self._redis = redis
        self._last_warning = -math.inf

    async def hit(self, key: str, limit: str | RateLimitItem) -> RateDecision:
        """Count one hit for `key`; refused hits are not counted."""
        item = parse_limit(limit) if isinstance(limit, str) else limit
        try:
            if await self._strategy.hit(item, self.namespace, key):
                # The window's stats only when refused: they cost as much again (a second Redis round trip).
                return RateDecision(allowed=True, retry_after_seconds=0)
            stats = await self._strategy.get_window_stats(item, self.namespace, key)
        except StorageError as exc:
            self._warn(exc)
            return RateDecision(allowed=True, retry_after_seconds=0)
        return RateDecision(allowed=False, retry_after_seconds=max(1, math.ceil(stats.reset_time - time.time())))

    async def clear(self, key: str, limit: str | RateLimitItem) -> None:
        """Forget every hit of `key` against `limit`."""
        item = parse_limit(limit) if isinstance(limit, str) else limit
        await self._strategy.clear(item, self.namespace, key)

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning >= WARN_EVERY_SECONDS:
            self._last_warning = now
            logger.warning("ratelimit.storage_unavailable", extra={"error_type": type(exc).__name__})

    async def close(self) -> None:
        """Release the Redis connections, or stop the memory store's expiry task."""
        if self._redis is not None:
            await self._redis.aclose()
            return
        timer = getattr(self.storage, "timer", None)
        if timer is not None and not timer.done():
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer


def create_rate_limiter(settings: Settings, *, namespace: str) -> RateLimiter:
    """Redis when the settings put caches there (every replica shares the counts), else memory."""
    dsn = settings.redis_dsn
    if not settings.uses_redis_cache:
        return RateLimiter(MemoryStorage(), namespace=namespace)
    if dsn is None:
        raise ValueError("MLSEC_CACHE_BACKEND=redis needs REDIS_URL or REDIS_HOST")
    redis = create_redis(dsn)
    storage = RedisStorage(
        "async+redis://",  # the connection details travel in our own client's pool
        implementation="redispy",
        connection_pool=redis.connection_pool,  # type: ignore[arg-type]  # limits types **options too narrowly
        key_prefix=f"mlsec:{namespace}:ratelimit",
        wrap_exceptions=True,
    )
    return RateLimiter(storage, namespace=namespace, redis=redis)
