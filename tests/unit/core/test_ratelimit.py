"""Rate limits: a moving window per key, in memory and in Redis, and open when Redis is down."""

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
    decisions = [await limiter.hit("api_key:a", "3/minute") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.retry_after_seconds for d in decisions[:3]] == [0, 0, 0]
    assert 1 <= decisions[3].retry_after_seconds <= 60


async def test_each_key_has_its_own_window(limiter: RateLimiter) -> None:
    assert (await limiter.hit("user:ada", "1/minute")).allowed
    assert not (await limiter.hit("user:ada", "1/minute")).allowed
    assert (await limiter.hit("user:grace", "1/minute")).allowed
    await limiter.clear("user:ada", "1/minute")
    assert (await limiter.hit("user:ada", "1/minute")).allowed


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
            first = await limiter.hit("k", "1/minute")
            second = await limiter.hit("k", "1/minute")
    finally:
        await limiter.close()
    assert first.allowed and second.allowed
    assert [r.message for r in caplog.records] == ["ratelimit.storage_unavailable"]  # once, not per request
