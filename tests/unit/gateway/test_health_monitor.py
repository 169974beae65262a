"""The health monitor publishes exactly the changes between polls, and survives failing checks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from mlsec.core.events import Event, EventHub, EventPublisher, HubSink
from mlsec.services.gateway.service.health_monitor import HealthMonitor, health_check_from, statuses_from_report

pytestmark = pytest.mark.anyio
Published = tuple[str, str, dict[str, Any]]


class Scripted:
    """A check that answers the given statuses in turn (an exception is raised instead of answered)."""

    def __init__(self, answers: Iterable[dict[str, str] | Exception]):
        self.answers = list(answers)
        self.calls = 0

    async def __call__(self) -> dict[str, str]:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(answer, Exception):
            raise answer
        return answer


class Recorder:
    """What was published, in order; `accept` decides what publish returns."""

    def __init__(self, accept: bool = True):
        self.published: list[Published] = []
        self.accept = accept

    def __call__(self, topic: str, type_: str, payload: dict[str, Any]) -> bool:
        self.published.append((topic, type_, payload))
        return self.accept


def changed(service: str, previous: str | None, current: str | None) -> Published:
    return ("health", "health.changed", {"service": service, "previous": previous, "current": current})


async def test_the_first_poll_is_a_snapshot_and_later_polls_publish_only_changes() -> None:
    check = Scripted(
        [
            {"model-api": "healthy", "training": "healthy"},
            {"model-api": "healthy", "training": "healthy"},
            {"model-api": "degraded", "training": "healthy"},
            {"model-api": "degraded", "training": "unreachable", "tracing": "healthy"},
            {"model-api": "healthy", "training": "unreachable"},
        ]
    )
    publish = Recorder()
    monitor = HealthMonitor(check, publish, interval=60)
    counts = [await monitor.poll() for _ in range(5)]
    assert counts == [1, 0, 1, 2, 2]
    assert publish.published == [
        ("health", "health.snapshot", {"services": {"model-api": "healthy", "training": "healthy"}}),
        changed("model-api", "healthy", "degraded"),
        changed("tracing", None, "healthy"),
        changed("training", "healthy", "unreachable"),
        changed("model-api", "degraded", "healthy"),
        changed("tracing", "healthy", None),
    ]
    assert monitor.current == {"model-api": "healthy", "training": "unreachable"}
    assert (monitor.polls, monitor.failures, monitor.published) == (5, 0, 6)


async def test_a_failing_check_is_counted_and_the_last_known_state_is_kept() -> None:
    check = Scripted(
        [
            RuntimeError("gateway lost its network"),
            {"analytics": "healthy"},
            ConnectionError("again"),
            {"analytics": "healthy"},
            {"analytics": "degraded"},
        ]
    )
    publish = Recorder()
    registry = CollectorRegistry()
    monitor = HealthMonitor(check, publish, interval=60, registry=registry)
    assert [await monitor.poll() for _ in range(5)] == [0, 1, 0, 0, 1]
    # The snapshot comes with the first poll that succeeds; a failure in between is not a change.
    assert publish.published == [
        ("health", "health.snapshot", {"services": {"analytics": "healthy"}}),
        changed("analytics", "healthy", "degraded"),
    ]
    assert monitor.failures == 2
    assert registry.get_sample_value("mlsec_gateway_health_polls_total", {"outcome": "failed"}) == 2
    assert registry.get_sample_value("mlsec_gateway_health_polls_total", {"outcome": "ok"}) == 3
    assert registry.get_sample_value("mlsec_gateway_health_events_total", {"type": "health.changed"}) == 1


@pytest.mark.parametrize(
    "answer",
    [["not", "a", "mapping"], {"model-api": 200}, {"": "healthy"}, {"model-api": "x" * 65}],
    ids=["list", "non-string status", "empty name", "status too long"],
)
async def test_an_invalid_answer_counts_as_a_failed_check(answer: Any) -> None:
    publish = Recorder()
    monitor = HealthMonitor(Scripted([answer]), publish, interval=60)
    assert await monitor.poll() == 0
    assert monitor.failures == 1
    assert publish.published == []


async def test_a_check_slower_than_its_timeout_fails_and_the_next_poll_goes_on() -> None:
    calls = 0

    async def check() -> dict[str, str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(5)
        return {"tracing": "healthy"}

    publish = Recorder()
    monitor = HealthMonitor(check, publish, interval=60, timeout=0.05)
    assert await monitor.poll() == 0
    assert await monitor.poll() == 1
    assert monitor.failures == 1


async def test_refused_or_failing_publishes_are_counted_and_never_raise() -> None:
    publish = Recorder(accept=False)
    monitor = HealthMonitor(Scripted([{"a": "healthy"}, {"a": "degraded"}]), publish, interval=60)
    assert await monitor.poll() == 0
    assert await monitor.poll() == 0
    assert monitor.publish_failures == 2
    assert monitor.current == {"a": "degraded"}  # the state follows the check, whatever the queue said

    def broken(topic: str, type_: str, payload: dict[str, Any]) -> bool:
        raise ValueError("bad event")

    failing = HealthMonitor(Scripted([{"a": "healthy"}]), broken, interval=60)
    assert await failing.poll() == 0
    assert failing.publish_failures == 1


async def test_the_background_loop_publishes_every_change_into_the_hub() -> None:
    # The same path as in the gateway: ServiceContext.publish -> EventPublisher -> HubSink -> EventHub.
    hub = EventHub()
    subscription = hub.subscribe()
    publisher = EventPublisher(HubSink(hub))
    publisher.start()

    def publish(topic: str, type_: str, payload: dict[str, Any]) -> bool:
        return publisher.publish(Event(topic=topic, type=type_, source="gateway", payload=payload))

    check = Scripted(
        [
            {"model-cache": "healthy"},
            RuntimeError("flaky"),
            {"model-cache": "unreachable"},
            {"model-cache": "unreachable"},
            {"model-cache": "healthy"},
        ]
    )
    monitor = HealthMonitor(check, publish, interval=0.01)
    monitor.start()
    try:
        events = [await asyncio.wait_for(subscription.get(), 5) for _ in range(3)]
    finally:
        await monitor.close()
        await publisher.close()
    assert [(event.topic, event.type) for event in events] == [
        ("health", "health.snapshot"),
        ("health", "health.changed"),
        ("health", "health.changed"),
    ]
    assert [event.payload for event in events[1:]] == [
        {"service": "model-cache", "previous": "healthy", "current": "unreachable"},
        {"service": "model-cache", "previous": "unreachable", "current": "healthy"},
    ]
    assert monitor.failures == 1
    assert check.calls >= 5


async def test_close_stops_the_loop_and_is_idempotent() -> None:
    calls = 0
    polled_twice = asyncio.Event()

    async def check() -> dict[str, str]:
        nonlocal calls
        calls += 1
        if calls == 2:
            polled_twice.set()
        return {"a": "healthy"}

    monitor = HealthMonitor(check, Recorder(), interval=0.01)
    monitor.start()
    await asyncio.wait_for(polled_twice.wait(), 5)
    await monitor.close()
    await monitor.close()
    stopped_at = calls
    await asyncio.sleep(0.05)
    assert calls == stopped_at


def test_statuses_come_from_the_platform_health_report() -> None:
    report = {
        "status": "degraded",
        "services": {
            "model-api": {"service": "model-api", "status": "healthy"},
            "training": {"service": "training", "status": "unreachable", "error": "connection refused"},
            "tracing": {"service": "tracing"},
        },
    }
    assert statuses_from_report(report) == {"model-api": "healthy", "training": "unreachable", "tracing": "unknown"}
    with pytest.raises(ValueError, match="services"):
        statuses_from_report({"status": "healthy"})


async def test_a_check_built_from_the_report_feeds_the_monitor() -> None:
    async def fetch() -> dict[str, Any]:
        return {"services": {"data-privacy": {"status": "healthy"}}}

    publish = Recorder()
    monitor = HealthMonitor(health_check_from(fetch), publish, interval=60)
    await monitor.poll()
    assert publish.published == [("health", "health.snapshot", {"services": {"data-privacy": "healthy"}})]


@pytest.mark.parametrize("kwargs", [{"interval": 0}, {"interval": 1, "timeout": -1}])
def test_bad_intervals_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="positive"):
        HealthMonitor(Scripted([{}]), Recorder(), **kwargs)
