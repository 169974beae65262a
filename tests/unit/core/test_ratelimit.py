"""Rate limits: a sliding window per key, in memory and in Redis, and open when Redis is down.

The limiter weighs the previous window's hits by how much of it still overlaps, so a burst that
straddles a window boundary may get one hit more; the tests use hour windows, where a few seconds
of hits straddle a boundary once in a thousand runs, not once in sixty.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mlsec.core.ratelimit import RateLimiter, create_rate_limiter, parse_limit
from mlsec.core.settings import Settings
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RateLimiter]:
    settings: Settings = make_settings(tmp_path)
    if request.param == "redis":
        settings = make_settings(tmp_path, redis_url=request.getfixturevalue("redis_server_url"))
    made = create_rate_limiter(settings, namespace=f"test-{uuid.uuid4().hex[:8]}")
    assert made.backend == request.param
    try:
        yield made
    finally:
        await made.close()


async def test_hits_are_allowed_up_to_the_limit_then_refused(limiter: RateLimiter) -> None:
    decisions = [await limiter.hit("api_key:a", "3/hour") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.retry_after_seconds for d in decisions[:3]] == [0, 0, 0]
    assert 1 <= decisions[3].retry_after_seconds <= 3600


async def test_each_key_has_its_own_window(limiter: RateLimiter) -> None:
    assert (await limiter.hit("user:ada", "1/hour")).allowed
    assert not (await limiter.hit("user:ada", "1/hour")).allowed
    assert (await limiter.hit("user:grace", "1/hour")).allowed
    await limiter.clear("user:ada", "1/hour")
    assert (await limiter.hit("user:ada", "1/hour")).allowed


async def test_a_refused_hit_is_not_counted(limiter: RateLimiter) -> None:
    for _ in range(5):
        await limiter.hit("k", "2/second")
    stats = await limiter.hit("k", "2/second")
    assert not stats.allowed and stats.retry_after_seconds == 1


def test_limits_are_parsed_or_refused() -> None:
    assert parse_limit("600/minute").amount == 600
    assert parse_limit("10 per second").amount == 10
    with pytest.raises(ValueError, match="not a rate limit"):
        parse_limit("lots")


async def test_an_unreachable_redis_lets_requests_through(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    limiter = create_rate_limiter(make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0"), namespace="down")
    try:
        with caplog.at_level(logging.WARNING, logger="mlsec.ratelimit"):
            first = await limiter.hit("k", "1/hour")
            second = await limiter.hit("k", "1/hour")
    finally:
        await limiter.close()
    assert first.allowed and second.allowed
    assert [r.message for r in caplog.records] == ["ratelimit.storage_unavailable"]  # once, not per request
