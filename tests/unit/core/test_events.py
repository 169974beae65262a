"""Events never block the publisher, and reach the gateway's hub over HTTP or Redis."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from mlsec.core.cache import create_redis
from mlsec.core.events import Event, EventHub, EventPublisher, HttpEventSink, RedisEventSink, relay_redis_events
from mlsec.core.service_token import SERVICE_TOKEN_HEADER
from mlsec.core.settings import Settings
from mlsec.services.gateway.app import create_app as create_gateway
from tests.conftest import make_settings, started_client

pytestmark = pytest.mark.anyio
TOKEN = "internal-service-token-for-the-event-tests"


def event(topic: str = "training", n: int = 0) -> Event:
    return Event(topic=topic, type="job.progress", source="training", payload={"n": n})


class SlowSink:
    def __init__(self) -> None:
        self.seen: list[Event] = []
        self.release = asyncio.Event()

    async def deliver(self, item: Event) -> None:
        await self.release.wait()
        self.seen.append(item)

    async def close(self) -> None:
        return None


async def test_publisher_drops_and_counts_when_its_queue_is_full() -> None:
    sink = SlowSink()
    publisher = EventPublisher(sink, max_queue=2)
    publisher.start()
    results = [publisher.publish(event(n=i)) for i in range(5)]
    assert results.count(False) >= 2
    assert publisher.dropped == results.count(False)
    sink.release.set()
    await publisher.close()
    assert len(sink.seen) == results.count(True)


async def test_a_failing_sink_does_not_stop_the_worker() -> None:
    class Flaky:
        def __init__(self) -> None:
            self.calls = 0

        async def deliver(self, item: Event) -> None:
            self.calls += 1
            if self.calls == 1:
                raise ConnectionError("gateway down")

        async def close(self) -> None:
            return None

    sink = Flaky()
    publisher = EventPublisher(sink)
    publisher.start()
    publisher.publish(event(n=1))
    publisher.publish(event(n=2))
    await publisher.close()
    assert (publisher.failed, publisher.delivered) == (1, 1)


def test_hub_fans_out_and_a_slow_subscriber_only_loses_its_own_events() -> None:
    hub = EventHub(max_queue=1)
    fast, slow = hub.subscribe(), hub.subscribe()
    assert hub.dispatch(event(n=1)) == 2
    fast.get_nowait()
    assert hub.dispatch(event(n=2)) == 1  # slow's queue is still full
    assert hub.dropped == 1
    assert fast.get_nowait().payload == {"n": 2}
    hub.unsubscribe(slow)
    assert hub.subscriber_count == 1
    assert [e.payload["n"] for e in hub.recent(topic="training")] == [1, 2]


async def test_events_reach_the_gateway_hub_over_http(settings: Settings) -> None:
    gateway = create_gateway(settings.model_copy(update={"service_token": SecretStr(TOKEN)}))
    async for http in started_client(gateway):
        hub = gateway.state.ctx.hub
        already = hub.subscriber_count  # the gateway's own WebSocket fan-out listens too
        inbox = hub.subscribe()
        publisher = EventPublisher(HttpEventSink(http, "http://testserver", service_token=TOKEN))
        publisher.start()
        publisher.publish(event("drift", 7))
        await publisher.close()
        received = await asyncio.wait_for(inbox.get(), 2)
        assert (received.topic, received.payload) == ("drift", {"n": 7})
        listed = (await http.get("/events", params={"topic": "drift"}, headers={SERVICE_TOKEN_HEADER: TOKEN})).json()
        assert listed["count"] == 1
        assert listed["subscribers"] == already + 1


async def test_events_without_the_service_token_are_refused(settings: Settings) -> None:
    gateway = create_gateway(settings.model_copy(update={"service_token": SecretStr(TOKEN)}))
    async for http in started_client(gateway):
        body = {"topic": "drift", "type": "x", "source": "y"}
        assert (await http.post("/events", json=body)).status_code == 401
        assert (await http.post("/events", json=body, headers={SERVICE_TOKEN_HEADER: "x" * 40})).status_code == 401
        assert gateway.state.ctx.hub.recent() == []


async def test_gateway_refuses_malformed_events(settings: Settings) -> None:
    gateway = create_gateway(settings.model_copy(update={"service_token": SecretStr(TOKEN)}))
    async for http in started_client(gateway):
        http.headers[SERVICE_TOKEN_HEADER] = TOKEN
        response = await http.post("/events", json={"topic": "Not A Topic", "type": "x", "source": "y"})
        assert response.status_code == 422
        assert response.json()["error"] is True
        too_many = await http.get("/events", params={"limit": 100000})
        assert too_many.status_code == 422


async def test_events_cross_processes_through_redis(redis_server_url: str) -> None:
    hub = EventHub()
    inbox = hub.subscribe()
    listener = create_redis(redis_server_url, blocking_reads=True)
    relay = asyncio.create_task(relay_redis_events(listener, hub))
    publisher = EventPublisher(RedisEventSink(create_redis(redis_server_url)))
    publisher.start()
    try:
        received = None
        for attempt in range(50):  # the subscription is asynchronous: publish until it is in place
            publisher.publish(event("promotions", attempt))
            await publisher.flush()
            try:
                received = await asyncio.wait_for(inbox.get(), 0.1)
                break
            except TimeoutError:
                continue
        assert received is not None and received.topic == "promotions"
    finally:
        await publisher.close()
        relay.cancel()
        await asyncio.gather(relay, return_exceptions=True)
        await listener.aclose()


async def test_gateway_relays_redis_events_to_its_hub(tmp_path: Path, redis_server_url: str) -> None:
    gateway = create_gateway(make_settings(tmp_path, redis_url=redis_server_url, service_token=TOKEN))
    async for http in started_client(gateway):
        http.headers[SERVICE_TOKEN_HEADER] = TOKEN
        inbox = gateway.state.ctx.hub.subscribe()
        for attempt in range(50):
            accepted = await http.post(
                "/events", json={"topic": "health", "type": "t", "source": "s", "payload": {"n": attempt}}
            )
            assert accepted.status_code == 202
            try:
                received = await asyncio.wait_for(inbox.get(), 0.1)
                break
            except TimeoutError:
                continue
        else:
            pytest.fail("no event came back through Redis")
        assert received.topic == "health"
