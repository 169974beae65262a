"""Live updates on the gateway's WebSocket `/ws`: the hub's events, fanned out to clients by topic.

The manager holds one subscription to the gateway's `EventHub`, however many clients are connected,
and one task reads it. Each event is serialised once and offered to the clients subscribed to its
topic. A client has a bounded queue and a sender task of its own, the only writer of its socket, so
a client that does not read never blocks the fan-out or any other client:

- queue full: the oldest message is dropped (and counted), so a client that falls behind keeps the
  newest state, which is what a dashboard shows;
- a client that loses more than `max_lag` messages before its queue is once empty again is closed
  with 1013 ("try again later": reconnect, and catch up from `GET /events`);
- a send still unfinished after `send_timeout` (the peer stopped reading and the socket's buffers
  are full) closes the client with 1013 too; a send that fails (connection gone) ends it.

Replies to the client's own messages (pong, subscribed, ...) go through the same queue, so the order
a client sees is the order the gateway decided. The protocol is in `protocol.py`, one client in
`connection.py`, the topic index in `topics.py`, the Prometheus view in `metrics.py`; the route is `api/live.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import WebSocket
from prometheus_client import CollectorRegistry

from mlsec.core.events import Event, EventHub
from mlsec.services.gateway.service.websocket.connection import Connection, refuse
from mlsec.services.gateway.service.websocket.metrics import WebSocketCollector
from mlsec.services.gateway.service.websocket.protocol import (
    GOING_AWAY,
    INTERNAL_ERROR,
    POLICY_VIOLATION,
    TRY_AGAIN_LATER,
    ProtocolError,
    error_message,
    event_message,
    heartbeat_message,
    parse_message,
    parse_topics,
    pong_message,
    status_message,
    topics_message,
    welcome_message,
)
from mlsec.services.gateway.service.websocket.topics import TopicIndex
from mlsec.services.gateway.settings import GatewaySettings

STATUS_TIMEOUT = 10.0
STATE_ATTR = "ws_manager"
"""Where the app's lifespan keeps the running manager (`app.state.ws_manager`)."""

StatusFn = Callable[[], Awaitable[dict[str, Any]]]
AuthenticateFn = Callable[[WebSocket], Awaitable[bool]]
logger = logging.getLogger("mlsec.gateway.websocket")


class WebSocketManager:
    """Clients of `/ws`, their subscriptions, and the fan-out of the hub's events to them."""

    def __init__(
        self,
        hub: EventHub,
        *,
        max_queue: int,
        max_clients: int,
        cleanup_interval: float,
        status: StatusFn,
        authenticate: AuthenticateFn | None = None,
        max_lag: int = 1_000,
        send_timeout: float = 10.0,
        max_topics: int = 32,
        registry: CollectorRegistry | None = None,
    ):
        if min(max_queue, max_clients, max_lag, max_topics) < 1:
            raise ValueError("max_queue, max_clients, max_lag and max_topics must be at least 1")
        if cleanup_interval <= 0 or send_timeout <= 0:
            raise ValueError("cleanup_interval and send_timeout must be positive")
        self.hub = hub
        self.max_queue = max_queue
        self.max_clients = max_clients
        self.cleanup_interval = cleanup_interval
        self.max_lag = max_lag
        self.send_timeout = send_timeout
        self.max_topics = max_topics
        self._status = status
        self._authenticate = authenticate
        self._clients: dict[str, Connection] = {}
        self._topics = TopicIndex()
        self._subscription: asyncio.Queue[Event] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._empty = asyncio.Event()
        self._empty.set()
        # Plain counters, read by stats() and exported by the collector: nothing extra per message.
        self.accepted = 0
        self.events = 0
        self.failed_events = 0  # events that could not be fanned out (logged)
        self.sent = 0
        self.dropped = 0
        self.disconnects: dict[str, int] = {}
        self.rejected: dict[str, int] = {}
        self._registry = registry
        self._collector = WebSocketCollector(self)

    @classmethod
    def from_settings(
        cls,
        hub: EventHub,
        settings: GatewaySettings,
        *,
        status: StatusFn,
        authenticate: AuthenticateFn | None = None,
        registry: CollectorRegistry | None = None,
    ) -> WebSocketManager:
        """A manager with the limits of the gateway's settings."""
        return cls(
            hub,
            max_queue=settings.ws_queue,
            max_clients=settings.ws_max_clients,
            cleanup_interval=settings.websocket_cleanup_interval,
            max_lag=settings.ws_max_lag,
            send_timeout=settings.ws_send_timeout,
            max_topics=settings.ws_max_topics,
            status=status,
            authenticate=authenticate,
            registry=registry,
        )

    @property
    def connection_count(self) -> int:
        return len(self._clients)

    @property
    def running(self) -> bool:
        return self._subscription is not None

    def start(self) -> None:
        """Subscribe to the hub; start the fan-out, the housekeeping and the metrics (in the app's lifespan)."""
        if self._subscription is not None:
            return
        if self._registry is not None:  # unregistered by close(), so an app may run its lifespan again
            self._registry.register(self._collector)
        self._subscription = self.hub.subscribe()
        self._tasks = [
            asyncio.create_task(self._pump(self._subscription), name="ws-fan-out"),
            asyncio.create_task(self._housekeep(), name="ws-housekeeping"),
        ]

    async def close(self, *, within: float = 5.0) -> None:
        """Stop the fan-out and close every client with 1001 (going away), waiting at most `within` s."""
        if self._subscription is None:
            return
        self.hub.unsubscribe(self._subscription)
        self._subscription = None
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for client in list(self._clients.values()):
            self._end(client, "shutdown", GOING_AWAY, "server shutting down")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._empty.wait(), within)
        if self._registry is not None:
            self._registry.unregister(self._collector)

    def stats(self) -> dict[str, Any]:
        """The counters, for `status` answers (the same figures as the Prometheus metrics)."""
        return {
            "clients": len(self._clients),
            "max_clients": self.max_clients,
            "accepted": self.accepted,
            "events": self.events,
            "failed_events": self.failed_events,
            "messages_sent": self.sent,
            "messages_dropped": self.dropped,
            "disconnects": dict(self.disconnects),
            "rejected": dict(self.rejected),
        }

    # --- one connection ------------------------------------------------------------------------------

    async def serve(self, websocket: WebSocket) -> None:
        """Run one client from handshake to close: admit it, then read and write until it ends."""
        refusal = await self._admission(websocket)
        if refusal is not None:
            code, reason, message = refusal
            self.rejected[reason] = self.rejected.get(reason, 0) + 1
            await refuse(websocket, code, message)
            return
        client = Connection(websocket)
        self._clients[client.id] = client  # before any await, so max_clients holds under concurrent handshakes
        self._empty.clear()
        try:
            await websocket.accept()
        except Exception:  # the peer went away during the handshake
            self._end(client, "lost", None, "")
            self._remove(client)
            return
        self.accepted += 1
        logger.info("ws.client.connected", extra={"client_id": client.id, "clients": len(self._clients)})
        if self.running:
            self._offer(client, self._welcome(client))
        else:  # close() ran during the handshake and did not see this client
            self._end(client, "shutdown", GOING_AWAY, "server shutting down")
        await self._run(client)

    async def _admission(self, websocket: WebSocket) -> tuple[int, str, str] | None:
        """Why a new connection is refused (close code, metric label, reason), or None to accept it."""
        if not self.running:
            return TRY_AGAIN_LATER, "unavailable", "live updates are not running"
        if self._authenticate is not None:
            try:
                allowed = await self._authenticate(websocket)
            except Exception as exc:  # fail closed, and say it is our fault, not the client's credentials
                logger.error("ws.authenticate_failed", extra={"error_type": type(exc).__name__})
                return INTERNAL_ERROR, "auth", "authentication is unavailable"
            if not allowed:
                return POLICY_VIOLATION, "auth", "authentication required"
        if len(self._clients) >= self.max_clients:
            return TRY_AGAIN_LATER, "capacity", "too many clients; try again later"
        return None

    async def _run(self, client: Connection) -> None:
        sender = asyncio.create_task(self._send_forever(client), name=f"ws-send-{client.id}")
        reader = asyncio.create_task(self._read_forever(client), name=f"ws-read-{client.id}")
        try:
            await client.done.wait()
        finally:
            for task in (sender, reader):
                task.cancel()
            await asyncio.gather(sender, reader, return_exceptions=True)
            self._remove(client)
            await client.close()  # we ended it: say why, if the socket still takes a frame

    async def _send_forever(self, client: Connection) -> None:
        """The one writer of the client's socket: its queue, in order (the housekeeping times sends out)."""
        while client.end_reason is None:
            if not client.queue:
                client.lost_since_caught_up = 0
                client.ready.clear()
                await client.ready.wait()
                continue
            message = client.queue.popleft()
            client.sending_since = time.monotonic()
            try:
                await client.websocket.send_text(message)
            except Exception:  # the connection is gone under us
                self._end(client, "failed", None, "")
                return
            client.sending_since = None
            self.sent += 1

    async def _read_forever(self, client: Connection) -> None:
        """Answer the client's messages until it disconnects; a client over the rate is read more slowly."""
        while client.end_reason is None:
            try:
                frame = await client.websocket.receive()
            except Exception:
                self._end(client, "lost", None, "")
                return
            if frame["type"] == "websocket.disconnect":
                code = frame.get("code") or 1005
                self._end(client, "closed" if code in (1000, 1001) else "lost", None, "")
                return
            self._offer(client, await self._reply(client, frame))
            await asyncio.sleep(client.throttle())  # 0 within the rate: still lets the sender run

    # --- the protocol ---------------------------------------------------------------------------------

    async def _reply(self, client: Connection, frame: Mapping[str, Any]) -> str:
        """The answer to one received frame; a ProtocolError becomes an error message."""
        try:
            message = parse_message(frame)
            kind = message["type"]
            if kind == "ping":
                return pong_message()
            if kind == "status":
                return status_message(await self._status_data())
            topics = parse_topics(message, max_topics=self.max_topics)
            if kind == "subscribe":
                return topics_message("subscribed", self._topics.subscribe(client, topics, self.max_topics))
            return topics_message("unsubscribed", self._topics.unsubscribe(client, topics))
        except ProtocolError as exc:
            return error_message(exc)

    async def _status_data(self) -> dict[str, Any]:
        try:
            async with asyncio.timeout(STATUS_TIMEOUT):
                return await self._status()
        except Exception as exc:
            logger.warning("ws.status_failed", extra={"error_type": type(exc).__name__})
            raise ProtocolError("status_unavailable", "status is unavailable right now") from exc

    def _welcome(self, client: Connection) -> str:
        return welcome_message(client.id, max_topics=self.max_topics, queue=self.max_queue, max_lag=self.max_lag)

    # --- fan-out and bookkeeping ------------------------------------------------------------------------

    async def _pump(self, subscription: asyncio.Queue[Event]) -> None:
        """The one reader of the hub subscription. One bad event never ends live updates for everyone, and
        the reader yields after each event so that the clients' senders drain their queues during a burst."""
        while True:
            event = await subscription.get()
            try:
                self.fan_out(event)
            except Exception:
                self.failed_events += 1
                logger.exception("websocket.event.failed", extra={"topic": event.topic, "type": event.type})
            await asyncio.sleep(0)

    def fan_out(self, event: Event) -> int:
        """Offer one event to every client subscribed to its topic (or to "*"); how many got it."""
        self.events += 1
        recipients = self._topics.get_all(event.topic)
        if not recipients:
            return 0
        message = event_message(event)
        for client in recipients:
            self._offer(client, message)
        return len(recipients)

    async def _housekeep(self) -> None:
        """Close clients stuck in one send longer than send_timeout; heartbeat every cleanup_interval."""
        tick = min(1.0, self.send_timeout / 4, self.cleanup_interval)
        next_sweep = time.monotonic() + self.cleanup_interval
        while True:
            await asyncio.sleep(tick)
            moment = time.monotonic()
            self.close_stuck(moment)
            if moment >= next_sweep:
                self.sweep()
                next_sweep = moment + self.cleanup_interval

    def close_stuck(self, moment: float) -> int:
        """End every client whose send in progress started more than send_timeout before `moment`."""
        stuck = [
            client
            for client in self._clients.values()
            if client.sending_since is not None and moment - client.sending_since > self.send_timeout
        ]
        for client in stuck:
            self._end(client, "timeout", TRY_AGAIN_LATER, "too slow: a message waited too long to be sent")
        return len(stuck)

    def sweep(self) -> int:
        """Queue a heartbeat to every client: a dead connection then fails its send, a stuck one times out."""
        heartbeat = heartbeat_message()
        clients = list(self._clients.values())
        for client in clients:
            self._offer(client, heartbeat)
        return len(clients)

    def _offer(self, client: Connection, message: str) -> None:
        """Queue a message without waiting: full queue -> drop the oldest; too far behind -> close."""
        if client.end_reason is not None:
            return
        if len(client.queue) >= self.max_queue:
            client.queue.popleft()
            self.dropped += 1
            client.lost_since_caught_up += 1
            if client.lost_since_caught_up > self.max_lag:
                self._end(client, "slow", TRY_AGAIN_LATER, "too slow: fell too far behind")
                return
        client.queue.append(message)
        client.ready.set()

    def _end(self, client: Connection, reason: str, code: int | None, message: str) -> None:
        """End a client (once): it gets nothing more; its connection task closes it and cleans up."""
        if not client.finish(reason, code, message):
            return
        self._topics.delete(client)
        if reason in ("slow", "timeout"):
            logger.warning("ws.client.too_slow", extra={"client_id": client.id, "reason": reason})

    def _remove(self, client: Connection) -> None:
        if self._clients.pop(client.id, None) is None:
            return
        self._topics.delete(client)
        client.queue.clear()
        reason = client.end_reason or "lost"
        self.disconnects[reason] = self.disconnects.get(reason, 0) + 1
        logger.info("ws.client.disconnected", extra={"client_id": client.id, "reason": reason})
        if not self._clients:
            self._empty.set()
