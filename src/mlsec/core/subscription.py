"""Listening to the platform's event stream from a service: the events of some topics, handed to a callback.

The stream is where services publish (mlsec.core.events): Redis pub/sub in distributed mode, the gateway's hub in
embedded mode, which a service reaches as any client does, over the gateway's `/ws` with the internal service
token. The subscription reconnects on its own (1 s doubling to 30 s) and never raises: events are a shortcut to
freshness, so whatever relies on them must still be right without them (a periodic refresh), and a lost
connection is logged, not fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from mlsec.core.cache import create_redis
from mlsec.core.events import REDIS_CHANNEL, Event
from mlsec.core.service_token import SERVICE_TOKEN_HEADER
from mlsec.core.settings import Settings

logger = logging.getLogger("mlsec.events.subscription")
EventHandler = Callable[[Event], Awaitable[None]]
FIRST_RETRY_SECONDS = 1.0
LAST_RETRY_SECONDS = 30.0
QUIET_SECONDS = 60.0


class EventSubscription:
    """Delivers the events of `topics` to `handler`, one at a time, in the order published, until `stop`."""

    def __init__(self, settings: Settings, topics: Collection[str], handler: EventHandler, *, name: str):
        self.settings = settings
        self.topics = frozenset(topics)
        self.handler = handler
        self.name = name
        self.connected = False
        self.received = 0
        self._reached = False  # whether the current attempt got connected
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"events:{self.name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.connected = False

    async def _run(self) -> None:
        delay = FIRST_RETRY_SECONDS
        failing_since: float | None = None
        while True:
            self._reached = False
            try:
                if self.settings.uses_redis_events:
                    await self._listen_redis()
                else:
                    await self._listen_gateway()
                delay, failing_since = FIRST_RETRY_SECONDS, None  # a clean end (a gateway restart): reconnect now
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._reached:
                    delay, failing_since = FIRST_RETRY_SECONDS, None  # it was connected: a new outage
                now = time.monotonic()
                failing_since = failing_since or now
                # A cold start has the gateway come up after the services: quiet for a minute, then a warning.
                log = logger.info if now - failing_since < QUIET_SECONDS else logger.warning
                log("events.subscription.lost", extra={"subscription": self.name, "error_type": type(exc).__name__})
                self.connected = False
                await asyncio.sleep(delay)
                delay = min(LAST_RETRY_SECONDS, delay * 2)

    async def _deliver(self, event: Event) -> None:
        if event.topic not in self.topics:
            return
        self.received += 1
        try:
            await self.handler(event)
        except Exception:
            logger.exception("events.subscription.handler_failed", extra={"subscription": self.name})

    async def _listen_redis(self) -> None:
        dsn = self.settings.redis_dsn
        if dsn is None:
            raise ValueError("MLSEC_EVENTS_BACKEND=redis needs REDIS_URL or REDIS_HOST")
        redis = create_redis(dsn, blocking_reads=True)
        pubsub = redis.pubsub()
        try:
            await pubsub.subscribe(REDIS_CHANNEL)
            self.connected = self._reached = True
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    with contextlib.suppress(ValueError):
                        await self._deliver(Event.model_validate(json.loads(message["data"])))
        finally:
            self.connected = False
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            await redis.aclose()

    async def _listen_gateway(self) -> None:
        from websockets.asyncio.client import connect

        url = self.settings.url_for("gateway").replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        headers = {}
        if self.settings.service_token is not None:
            headers[SERVICE_TOKEN_HEADER] = self.settings.service_token.get_secret_value()
        async with connect(f"{url}/ws", additional_headers=headers, open_timeout=10) as websocket:
            await websocket.send(json.dumps({"type": "subscribe", "topics": sorted(self.topics)}))
            async for raw in websocket:
                message: dict[str, Any] = json.loads(raw)
                kind = message.get("type")
                if kind == "subscribed":
                    self.connected = self._reached = True
                elif kind == "event":
                    with contextlib.suppress(ValueError):
                        await self._deliver(Event.model_validate(message.get("event")))
        self.connected = False
