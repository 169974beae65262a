"""Rate limits: a sliding window counter per key, in process memory or in Redis (the `limits` library).

Embedded mode keeps the counters in memory (one process, nothing to install); distributed mode
keeps them in Redis so that every replica counts against the same window. The sliding window
counter weighs the previous window's count by how much of it still overlaps the last period, so a
client cannot burst twice the limit at a window edge (as a fixed window allows), and costs two
counters per key whatever the limit. The exact moving window keeps one timestamp per hit; measured
on the gateway, its in-memory store cost 14% of the CPU of a forwarded prediction (it expires
entries through a thread per hit), so it is not used.

In memory the counter is `SlidingWindowCounts`, the `limits` library's algorithm (`MemoryStorage` with
`SlidingWindowCounterRateLimiter`: the same windows, weights, rounding and retry time) kept in one dict
without a lock: every hit runs on the event loop, start to end, with nothing to wait for. The library's
memory store spent a task, a lock and six coroutines per hit on what is a few arithmetic operations here
(about 40 µs of the gateway's CPU per forwarded call, measured).

When Redis cannot be reached, requests are let through (and a warning is logged, at most every
30 s): a rate limit protects capacity, and refusing every request because the counter store is
down would turn a Redis outage into a platform outage.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from math import floor

import limits
from limits import RateLimitItem
from limits.aio.storage import RedisStorage, Storage
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


class SlidingWindowCounts:
    """In-memory sliding window counters, the algorithm of `limits` (see the module docstring).

    Per key and limit, the count of the current window and of the one before (windows are aligned on
    multiples of the limit's period, as in `limits`); a window older than that is forgotten. Keys nobody
    used for two periods are swept out as the table grows."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock
        self._counts: dict[tuple[str, int, int], list[int]] = {}  # (key, amount, period) -> [window, count, previous]
        self._sweep_at = 1024

    def hit(self, key: str, item: RateLimitItem) -> RateDecision:
        """Count one hit of `key` against `item` when it fits; refused hits are not counted."""
        amount, period = item.amount, item.get_expiry()
        now = self.clock()
        previous, previous_ttl, current, _ = self._window(key, amount, period, now)
        if amount < 1 or floor(previous * previous_ttl / period + current) + 1 > amount:
            return RateDecision(allowed=False, retry_after_seconds=self._retry_after(key, amount, period))
        window = int(now / period)
        entry = self._counts.get((key, amount, period))
        if entry is None or entry[0] != window:
            entry = self._counts[(key, amount, period)] = [window, 0, previous]
        entry[1] += 1
        if len(self._counts) > self._sweep_at:
            self._sweep(now)
        return RateDecision(allowed=True, retry_after_seconds=0)

    def clear(self, key: str, item: RateLimitItem) -> None:
        self._counts.pop((key, item.amount, item.get_expiry()), None)

    def _window(self, key: str, amount: int, period: int, now: float) -> tuple[int, float, int, float]:
        """(previous count, its remaining weight in seconds, current count, seconds the current one lasts)."""
        window = int(now / period)
        entry = self._counts.get((key, amount, period))
        if entry is None or entry[0] < window - 1:
            previous = current = 0
        elif entry[0] == window:
            previous, current = entry[2], entry[1]
        else:  # the entry's window is the previous one
            previous, current = entry[1], 0
        previous_ttl = (1 - (((now - period) / period) % 1)) * period if previous else 0.0
        return previous, previous_ttl, current, (1 - ((now / period) % 1)) * period + period

    def _retry_after(self, key: str, amount: int, period: int) -> int:
        """Whole seconds until the weighted count drops: `limits`' `get_window_stats` reset time."""
        now = self.clock()
        previous, previous_ttl, current, current_ttl = self._window(key, amount, period, now)
        reset_in = 0.0
        if previous or current:
            reset_in = min(
                previous_ttl % (period / previous) if previous else math.inf,
                current_ttl % period if current else math.inf,
            )
        return max(1, math.ceil(reset_in))

    def _sweep(self, now: float) -> None:
        stale = [name for name, entry in self._counts.items() if entry[0] < int(now / name[2]) - 1]
        for name in stale:
            del self._counts[name]
        self._sweep_at = max(1024, 2 * len(self._counts))


class RateLimiter:
    """Counts hits per key against a limit in a sliding window: in memory (`storage` None) or in Redis."""

    def __init__(self, storage: Storage | None, *, namespace: str, redis: Redis | None = None):
        self.storage = storage
        self.namespace = namespace
        self.backend = "redis" if redis is not None else "memory"
        self._memory = SlidingWindowCounts() if storage is None else None
        self._strategy = SlidingWindowCounterRateLimiter(storage) if storage is not None else None
        self._redis = redis
        self._last_warning = -math.inf

    async def hit(self, key: str, limit: str | RateLimitItem) -> RateDecision:
        """Count one hit for `key`; refused hits are not counted."""
        item = parse_limit(limit) if isinstance(limit, str) else limit
        if self._memory is not None:
            return self._memory.hit(key, item)
        assert self._strategy is not None
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
        if self._memory is not None:
            self._memory.clear(key, item)
            return
        assert self._strategy is not None
        await self._strategy.clear(item, self.namespace, key)

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning >= WARN_EVERY_SECONDS:
            self._last_warning = now
            logger.warning("ratelimit.storage_unavailable", extra={"error_type": type(exc).__name__})

    async def close(self) -> None:
        """Release the Redis connections (memory counters hold nothing to release)."""
        if self._redis is not None:
            await self._redis.aclose()


def create_rate_limiter(settings: Settings, *, namespace: str) -> RateLimiter:
    """Redis when the settings put caches there (every replica shares the counts), else memory."""
    dsn = settings.redis_dsn
    if not settings.uses_redis_cache:
        return RateLimiter(None, namespace=namespace)
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
