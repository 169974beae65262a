"""Platform events behind one small interface.

Embedded mode: every service runs in its own process, so a service's events reach the gateway
(the hub that feeds WebSocket clients) over HTTP (`POST /events`). Distributed mode: events go
through Redis pub/sub, so that every gateway replica sees every event. Publishing never blocks
the caller: events wait in a bounded queue and are dropped (and counted) when it is full.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, Field
from redis.asyncio import Redis

from mlsec.core.cache import create_redis
from mlsec.core.limits import UtcDatetime
from mlsec.core.service_token import SERVICE_TOKEN_HEADER
from mlsec.core.settings import Settings

REDIS_CHANNEL = "mlsec.events"
logger = logging.getLogger("mlsec.events")


class Event(BaseModel):
    """One thing that happened, addressed to a topic (`training`, `drift`, `promotions`, ...)."""

    topic: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_.-]*$")
    type: str = Field(min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)
    id: str = Field(default_factory=lambda: uuid.uuid4().hex, max_length=64)
    timestamp: UtcDatetime = Field(default_factory=lambda: datetime.now(UTC))


class EventSink(Protocol):
    """Where a publisher's worker delivers events."""

    async def deliver(self, event: Event) -> None: ...

    async def close(self) -> None: ...


class EventPublisher:
    """Queues events and delivers them in the background; never blocks, drops when full."""

    def __init__(self, sink: EventSink, *, max_queue: int = 1000):
        self.sink = sink
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=max_queue)
        self._worker: asyncio.Task[None] | None = None
        self.dropped = 0
        self.failed = 0
        self.delivered = 0

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="mlsec-event-publisher")

    def publish(self, event: Event) -> bool:
        """Queue an event; False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True

    async def _run(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self.sink.deliver(event)
                self.delivered += 1
            except Exception as exc:  # a lost event must never kill the worker
                self.failed += 1
                logger.warning("events.delivery_failed", extra={"topic": event.topic, "error_type": type(exc).__name__})
            finally:
                self._queue.task_done()

    async def flush(self, within: float = 5.0) -> None:
        """Wait until queued events are delivered (or failed)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), within)

    async def close(self) -> None:
        await self.flush(within=2.0)
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self.sink.close()


class HttpEventSink:
    """Delivers events to the gateway's `POST /events` (embedded mode), with the service token when set."""

    def __init__(self, client: httpx.AsyncClient, gateway_url: str, *, service_token: str | None = None):
        self.client = client
        self.url = f"{gateway_url}/events"
        self.headers = {"content-type": "application/json"}
        if service_token:
            self.headers[SERVICE_TOKEN_HEADER] = service_token

    async def deliver(self, event: Event) -> None:
        response = await self.client.post(self.url, content=event.model_dump_json(), headers=self.headers)
        response.raise_for_status()

    async def close(self) -> None:
        return None


class RedisEventSink:
    """Publishes events on the Redis channel every gateway replica listens to."""

    def __init__(self, redis: Redis):
        self.redis = redis

    async def deliver(self, event: Event) -> None:
        await self.redis.publish(REDIS_CHANNEL, event.model_dump_json())

    async def close(self) -> None:
        await self.redis.aclose()


class EventHub:
    """In-process fan-out to subscribers (the gateway's WebSocket clients), each with a bounded queue."""

    def __init__(self, *, max_queue: int = 256, history: int = 500):
        self.max_queue = max_queue
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self._recent: deque[Event] = deque(maxlen=history)
        self.dropped = 0

    def recent(self, *, topic: str | None = None, limit: int = 100) -> list[Event]:
        """The latest events seen, oldest first, so a new client can catch up."""
        events = [e for e in self._recent if topic is None or e.topic == topic]
        return events[-limit:]

    def subscribe(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=self.max_queue)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def dispatch(self, event: Event) -> int:
        """Hand the event to every subscriber; a full (slow) subscriber loses it, nobody waits."""
        delivered = 0
        self._recent.append(event)
        for queue in self._subscribers:
            try:
                queue.put_nowait(event)
                delivered += 1
            except asyncio.QueueFull:
                self.dropped += 1
        return delivered


class HubSink:
    """Delivers straight into a local hub (the gateway's own events in embedded mode)."""

    def __init__(self, hub: EventHub):
        self.hub = hub

    async def deliver(self, event: Event) -> None:
        self.hub.dispatch(event)

    async def close(self) -> None:
        return None


async def relay_redis_events(redis: Redis, hub: EventHub) -> None:
    """Feed every event published on Redis into the local hub, until cancelled."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(REDIS_CHANNEL)
    try:
        async for message in pubsub.listen():
            if message.get("type") != "message":
                continue
            try:
                hub.dispatch(Event.model_validate(json.loads(message["data"])))
            except ValueError:
                logger.warning("events.invalid_message")
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]


def create_event_sink(settings: Settings, client: httpx.AsyncClient, *, local_hub: EventHub | None = None) -> EventSink:
    """Redis pub/sub when configured; else HTTP to the gateway, or the hub itself inside the gateway."""
    if settings.uses_redis_events:
        dsn = settings.redis_dsn
        if dsn is None:
            raise ValueError("MLSEC_EVENTS_BACKEND=redis needs REDIS_URL or REDIS_HOST")
        return RedisEventSink(create_redis(dsn))
    if local_hub is not None:
        return HubSink(local_hub)
    token = settings.service_token.get_secret_value() if settings.service_token else None
    return HttpEventSink(client, settings.url_for("gateway"), service_token=token)
