"""The in-memory rate limiter is the `limits` library's sliding window counter, hit for hit: the same answers
and the same retry times as `MemoryStorage` with `SlidingWindowCounterRateLimiter`, under one clock."""

from __future__ import annotations

import math
import random
from unittest import mock

import limits
import pytest
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from mlsec.core.ratelimit import SlidingWindowCounts

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("limit", ["3/second", "5/minute", "10/10 seconds", "2/second", "7/hour"])
async def test_the_memory_counter_answers_as_the_library_does(limit: str) -> None:
    item = limits.parse(limit)
    rng = random.Random(limit)
    now = [1_700_000_000.0 + rng.random() * 1000]

    def clock() -> float:
        return now[0]

    ours = SlidingWindowCounts(clock=clock)
    with mock.patch("time.time", clock):
        storage = MemoryStorage()
        theirs = SlidingWindowCounterRateLimiter(storage)
        try:
            for hit in range(600):
                now[0] += rng.expovariate(3.0 * item.amount / item.get_expiry())
                key = rng.choice(["api_key:a", "api_key:b"])
                allowed = await theirs.hit(item, "ns", key)
                decision = ours.hit(key, item)
                assert decision.allowed == allowed, (hit, key)
                if not allowed:
                    stats = await theirs.get_window_stats(item, "ns", key)
                    assert decision.retry_after_seconds == max(1, math.ceil(stats.reset_time - clock()))
        finally:
            if storage.timer is not None:
                storage.timer.cancel()


def test_keys_idle_for_two_periods_are_swept_out() -> None:
    now = [1_000_000.0]
    counts = SlidingWindowCounts(clock=lambda: now[0])
    item = limits.parse("5/second")
    for number in range(2000):
        counts.hit(f"user:{number}", item)
    now[0] += 10
    for number in range(1100):
        counts.hit(f"fresh:{number}", item)
    assert len(counts._counts) <= 1100 + 1  # the 2,000 stale keys went with the sweep the growth set off
