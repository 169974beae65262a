"""The gateway's WebSocket `/ws` on a real uvicorn server, driven by the `websockets` client library.

Events travel the production path: `POST /events` -> the service's event publisher -> the hub -> the
manager's one subscription -> each client's queue and sender. A client that "never reads" is a real
client whose transport stops reading, so the server's socket buffers fill as they would in production
(kept small by the tests that need them full, so that this takes kilobytes rather than megabytes).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, WebSocket
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from mlsec.core.app import ServiceContext, create_service_app
from mlsec.core.events import EventHub
from mlsec.core.services import get_spec
from mlsec.services.gateway.api.events import router as events_router
from mlsec.services.gateway.api.live import build_websocket_router
from mlsec.services.gateway.service.websocket.manager import STATE_ATTR, WebSocketManager
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio

Authenticate = Callable[[WebSocket], Awaitable[bool]]
LIMITS: dict[str, Any] = {
    "max_queue": 64,
    "max_clients": 200,
    "cleanup_interval": 300.0,
    "max_lag": 1_000,
    "send_timeout": 10.0,
    "max_topics": 8,
}


def build_app(home: Path, *, authenticate: Authenticate | None = None, **limits: Any) -> FastAPI:
    """A gateway app with the events routes and `/ws`, its manager started in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI, ctx: ServiceContext) -> AsyncIterator[None]:
        assert ctx.hub is not None

        async def status() -> dict[str, Any]:
            return {"service": ctx.spec.name, "websocket": manager.stats()}

        manager = WebSocketManager(
            ctx.hub,
            status=status,
            authenticate=authenticate,
            registry=app.state.metrics.registry,
            **(LIMITS | limits),
        )
        manager.start()
        setattr(app.state, STATE_ATTR, manager)
        app.state.loop = asyncio.get_running_loop()  # lets a test run the manager's lifecycle on the server's loop
        try:
            yield
        finally:
            await manager.close()

    routers = [events_router, build_websocket_router()]
    return create_service_app(
        get_spec("gateway"), make_settings(home), routers=routers, lifespan=lifespan, hub=EventHub()
    )


class LiveServer:
    """An app under a real uvicorn server on a loopback port of its own, in a thread of its own."""

    def __init__(self, app: FastAPI, *, sndbuf: int = 0):
        self.app = app
        self._socket = socket.socket()
        if sndbuf:  # inherited by accepted connections: their send buffer stays small (no autotuning)
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def manager(self) -> WebSocketManager:
        manager: WebSocketManager = getattr(self.app.state, STATE_ATTR)
        return manager

    async def on_server_loop(self, work: Callable[[], Awaitable[Any]]) -> Any:
        """Run `work()` on the server's event loop (where the manager lives) and wait for it."""
        future = asyncio.run_coroutine_threadsafe(_call(work), self.app.state.loop)
        return await asyncio.wrap_future(future)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self._thread.is_alive(), "the server thread died while starting"
            assert time.monotonic() < deadline, "the server did not start within 30 s"
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(15)
        self._socket.close()


async def _call(work: Callable[[], Awaitable[Any]]) -> Any:
    return await work()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start a server whose manager has LIMITS, with any of them (or `authenticate`) overridden."""
    servers: list[LiveServer] = []

    def start(*, sndbuf: int = 0, **options: Any) -> LiveServer:
        server = LiveServer(build_app(tmp_path / f"home{len(servers)}", **options), sndbuf=sndbuf)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()


async def receive(ws: ClientConnection, within: float = 5.0) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), within))
    return message


async def ask(ws: ClientConnection, message: dict[str, Any] | str | bytes) -> dict[str, Any]:
    await ws.send(json.dumps(message) if isinstance(message, dict) else message)
    return await receive(ws)


async def open_client(
    server: LiveServer, topics: list[str] | None = None, *, compression: str | None = "deflate", rcvbuf: int = 0
) -> ClientConnection:
    """A connected client past its welcome, subscribed to `topics` when given.

    `rcvbuf` fixes the socket's receive buffer (no autotuning), so a client that stops reading
    stops the server's writes after less data; `compression=None` saves both sides the deflate work.
    """
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
    ws = await connect(server.ws_url, sock=sock, open_timeout=10, compression=compression)
    assert (await receive(ws))["type"] == "welcome"
    if topics:
        assert (await ask(ws, {"type": "subscribe", "topics": topics}))["type"] == "subscribed"
    return ws


async def close_code(ws: ClientConnection, within: float = 5.0) -> int:
    """The code the server closed the connection with (skipping anything it sent before)."""
    async with asyncio.timeout(within):
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else 1006  # 1006: no close frame came


async def eventually(predicate: Callable[[], bool], within: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.005)


def event_body(topic: str, seq: int, **extra: Any) -> dict[str, Any]:
    return {"topic": topic, "type": f"{topic}.test", "source": "tests", "payload": {"seq": seq, **extra}}


async def post_events(server: LiveServer, bodies: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        for body in bodies:
            assert (await http.post("/events", json=body)).status_code == 202


async def test_welcome_ping_and_status(serve: Callable[..., LiveServer]) -> None:
    server = serve()
    async with connect(server.ws_url) as ws:
        welcome = await receive(ws)
        assert welcome["type"] == "welcome"
        assert welcome["topics"] == []
        assert len(welcome["client_id"]) == 32
        assert welcome["limits"]["max_topics"] == LIMITS["max_topics"]
        assert "predictions" in welcome["available_topics"]
        pong = await ask(ws, {"type": "ping"})
        assert pong["type"] == "pong"
        datetime.fromisoformat(pong["timestamp"])
        status = await ask(ws, {"type": "status"})
        assert status["type"] == "status"
        assert status["data"]["service"] == "gateway"
        assert status["data"]["websocket"]["clients"] == 1


async def test_subscribe_and_unsubscribe_answer_the_current_set(serve: Callable[..., LiveServer]) -> None:
    server = serve(max_topics=3)
    async with connect(server.ws_url) as ws:
        await receive(ws)
        answer = await ask(ws, {"type": "subscribe", "topics": ["training", "drift"]})
        assert answer == {"type": "subscribed", "topics": ["drift", "training"]}
        answer = await ask(ws, {"type": "subscribe", "topics": ["training", "*"]})
        assert answer == {"type": "subscribed", "topics": ["*", "drift", "training"]}
        refused = await ask(ws, {"type": "subscribe", "topics": ["alerts"]})
        assert (refused["type"], refused["code"]) == ("error", "too_many_topics")
        answer = await ask(ws, {"type": "unsubscribe", "topics": ["drift", "never-subscribed"]})
        assert answer == {"type": "unsubscribed", "topics": ["*", "training"]}
        assert await ask(ws, {"type": "unsubscribe", "topics": ["*"]}) == {"type": "unsubscribed", "topics": []}


async def test_bad_messages_get_an_error_and_the_connection_stays(serve: Callable[..., LiveServer]) -> None:
    server = serve()
    cases: list[tuple[str | bytes, str]] = [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_message"),
        ('{"type": 3}', "invalid_message"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "subscribe"}', "invalid_topics"),
        ('{"type": "subscribe", "topics": []}', "invalid_topics"),
        ('{"type": "subscribe", "topics": "training"}', "invalid_topics"),
        ('{"type": "subscribe", "topics": ["Training"]}', "invalid_topics"),
        ('{"type": "subscribe", "topics": [7]}', "invalid_topics"),
        (json.dumps({"type": "subscribe", "topics": ["a" * 65]}), "invalid_topics"),
        (json.dumps({"type": "subscribe", "topics": [f"t{i}" for i in range(9)]}), "too_many_topics"),
        (json.dumps({"type": "ping", "pad": "x" * 65_536}), "too_large"),
        (json.dumps({"type": "ping", "pad": "é" * 40_000}), "too_large"),  # under 64 Ki characters, over 64 KiB
        ("[" * 100_000, "too_large"),
        ("[" * 60_000 + "]" * 60_000, "too_large"),
        ("[" * 30_000 + "]" * 30_000, "invalid_json"),  # too deep to parse: refused, never a crash
        (b'{"type": "ping"}', "invalid_message"),
    ]
    async with connect(server.ws_url) as ws:
        await receive(ws)
        for frame, code in cases:
            answer = await ask(ws, frame)
            assert answer["type"] == "error", frame[:40]
            assert answer["code"] == code, frame[:40]
            assert answer["message"]
        assert (await ask(ws, {"type": "ping"}))["type"] == "pong"
        assert (await ask(ws, {"type": "unsubscribe", "topics": ["*"]}))["topics"] == []


async def test_a_client_flooding_messages_is_read_more_slowly(serve: Callable[..., LiveServer]) -> None:
    server = serve()
    async with connect(server.ws_url) as ws:
        await receive(ws)
        started = time.perf_counter()
        for _ in range(60):
            await ws.send('{"type": "ping"}')
        answers = [await receive(ws) for _ in range(60)]
        assert {answer["type"] for answer in answers} == {"pong"}  # every message answered, none lost
        assert time.perf_counter() - started >= 0.9  # 40 at once, then 20 per second


async def test_events_reach_exactly_the_clients_subscribed_to_their_topic(serve: Callable[..., LiveServer]) -> None:
    server = serve()
    subscriptions = {"training": ["training", "end"], "drift": ["drift", "end"], "all": ["*"], "none": ["end"]}
    clients = {name: await open_client(server, topics) for name, topics in subscriptions.items()}
    topics = ["training", "drift", "predictions", "training", "alerts", "drift", "end"]
    await post_events(server, [event_body(topic, seq) for seq, topic in enumerate(topics)])
    expected = {
        "training": [0, 3, 6],
        "drift": [1, 5, 6],
        "all": list(range(7)),
        "none": [6],
    }
    for name, ws in clients.items():
        seen: list[int] = []
        while not seen or seen[-1] != 6:  # the last event ("end") reaches everyone, after all the others
            message = await receive(ws)
            assert message["type"] == "event"
            assert message["topic"] == message["event"]["topic"] == topics[message["event"]["payload"]["seq"]]
            assert message["event"]["source"] == "tests"
            seen.append(message["event"]["payload"]["seq"])
        assert seen == expected[name], name
        await ws.close()
    await eventually(lambda: server.manager.connection_count == 0, what="clients to be removed")
    assert server.manager.disconnects == {"closed": 4}


async def test_unauthenticated_clients_are_closed_with_1008(serve: Callable[..., LiveServer]) -> None:
    async def authenticate(websocket: WebSocket) -> bool:
        return websocket.query_params.get("token") == "let-me-in"

    server = serve(authenticate=authenticate)
    async with connect(server.ws_url) as ws:
        assert await close_code(ws) == 1008
    async with connect(f"{server.ws_url}?token=wrong") as ws:
        assert await close_code(ws) == 1008
    async with connect(f"{server.ws_url}?token=let-me-in") as ws:
        assert (await receive(ws))["type"] == "welcome"
    assert server.manager.rejected == {"auth": 2}


async def test_a_failing_authenticator_refuses_with_1011(serve: Callable[..., LiveServer]) -> None:
    async def authenticate(websocket: WebSocket) -> bool:
        raise RuntimeError("key store down")

    server = serve(authenticate=authenticate)
    async with connect(server.ws_url) as ws:
        assert await close_code(ws) == 1011
    assert server.manager.connection_count == 0


async def test_clients_over_the_limit_are_closed_with_1013(serve: Callable[..., LiveServer]) -> None:
    server = serve(max_clients=2)
    first, second = await open_client(server), await open_client(server)
    async with connect(server.ws_url) as third:
        assert await close_code(third) == 1013
    assert server.manager.rejected == {"capacity": 1}
    await first.close()
    await eventually(lambda: server.manager.connection_count == 1, what="the first client to be removed")
    replacement = await open_client(server)
    await replacement.close()
    await second.close()


async def test_a_client_that_vanishes_is_cleaned_up(serve: Callable[..., LiveServer]) -> None:
    server = serve()
    ws = await open_client(server, ["predictions"])
    assert server.manager.connection_count == 1
    ws.transport.abort()  # no close frame: as when a laptop's network goes away
    await eventually(lambda: server.manager.connection_count == 0, what="the lost client to be removed")
    assert server.manager.disconnects == {"lost": 1}
    await post_events(server, [event_body("predictions", 0)])  # nobody to deliver to: nothing breaks
    await eventually(lambda: server.manager.events == 1, what="the event to be read")


async def test_the_cleanup_sweep_sends_heartbeats(serve: Callable[..., LiveServer]) -> None:
    server = serve(cleanup_interval=0.1)
    async with connect(server.ws_url) as ws:
        await receive(ws)
        heartbeat = await receive(ws, within=3)
        assert heartbeat["type"] == "heartbeat"
        datetime.fromisoformat(heartbeat["timestamp"])


async def test_counters_are_prometheus_metrics(serve: Callable[..., LiveServer]) -> None:
    server = serve()
    ws = await open_client(server, ["training"])
    await post_events(server, [event_body("training", 0)])
    assert (await receive(ws))["type"] == "event"
    async with httpx.AsyncClient(base_url=server.url) as http:
        text = (await http.get("/metrics")).text
    assert "mlsec_ws_clients 1.0" in text
    assert "mlsec_ws_connections_total 1.0" in text
    assert "mlsec_ws_messages_sent_total 3.0" in text  # welcome, subscribed, the event
    assert "mlsec_ws_events_total 1.0" in text
    assert "mlsec_ws_messages_dropped_total 0.0" in text
    await ws.close()


class Reader:
    """A fast client: reads everything, keeps the sequence numbers of the events it got."""

    def __init__(self, ws: ClientConnection):
        self.ws = ws
        self.seqs: list[int] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if message["type"] == "event":
                self.seqs.append(message["event"]["payload"]["seq"])


def received_all(readers: list[Reader], count: int) -> bool:
    return all(len(reader.seqs) == count for reader in readers)


async def test_slow_clients_never_hold_back_the_others(serve: Callable[..., LiveServer]) -> None:
    # A client that does not read first fills its socket buffers, then its queue (16), then loses
    # messages: after 16 more it is closed. The server's send buffers are kept small (autotuned, they
    # hold megabytes per client on loopback) so that this takes ~50 events, not thousands. The
    # publisher goes in rounds of 8 (< the queue) and waits for the fast clients, which share this
    # process with the server and so are not faster than it.
    server = serve(max_queue=16, max_lag=16, send_timeout=30.0, sndbuf=16_384)
    fast = await asyncio.gather(*(open_client(server, ["predictions"], compression=None) for _ in range(90)))
    slow = await asyncio.gather(
        *(open_client(server, ["predictions"], compression=None, rcvbuf=4096) for _ in range(10))
    )
    for ws in slow:
        ws.transport.pause_reading()
    readers = [Reader(ws) for ws in fast]
    manager, blob, sent, slowest_round = server.manager, "x" * 8_000, 0, 0.0
    async with httpx.AsyncClient(base_url=server.url) as http:
        while manager.disconnects.get("slow", 0) < len(slow):
            assert sent < 400, f"slow clients not closed after {sent} events: {manager.stats()}"
            started = time.perf_counter()
            for _ in range(8):
                response = await http.post("/events", json=event_body("predictions", sent, blob=blob))
                assert response.status_code == 202
                sent += 1
            await eventually(partial(received_all, readers, sent), within=10, what="fast clients")
            slowest_round = max(slowest_round, time.perf_counter() - started)
    assert all(reader.seqs == list(range(sent)) for reader in readers)  # every event, in order, no loss
    assert slowest_round < 5.0
    await eventually(lambda: manager.connection_count == len(fast), what="slow clients to be removed")
    assert manager.disconnects == {"slow": len(slow)}
    assert manager.dropped >= len(slow) * (16 + 1)
    for ws in slow:
        ws.transport.abort()
    for reader in readers:
        await reader.ws.close()
        await reader.task
    await eventually(lambda: manager.connection_count == 0, what="every client to be removed")
    assert manager.disconnects == {"slow": len(slow), "closed": len(fast)}


async def test_a_client_that_fell_behind_is_told_1013_when_it_reads_again(serve: Callable[..., LiveServer]) -> None:
    server = serve(max_queue=4, max_lag=4, sndbuf=16_384)
    lagging = await open_client(server, ["predictions"], compression=None, rcvbuf=4096)
    lagging.transport.pause_reading()
    sent = 0
    async with httpx.AsyncClient(base_url=server.url) as http:
        while server.manager.disconnects.get("slow", 0) == 0:
            assert sent < 300, f"the lagging client was never closed: {server.manager.stats()}"
            assert (
                await http.post("/events", json=event_body("predictions", sent, blob="x" * 8_000))
            ).status_code == 202
            sent += 1
    lagging.transport.resume_reading()  # within the gateway's 2 s to deliver the close frame
    assert await close_code(lagging) == 1013
    assert server.manager.dropped > 4


async def test_a_client_whose_send_blocks_is_closed_after_the_send_timeout(serve: Callable[..., LiveServer]) -> None:
    server = serve(max_lag=100_000, send_timeout=0.3, sndbuf=16_384)
    stuck = await open_client(server, ["predictions"], compression=None, rcvbuf=4096)
    stuck.transport.pause_reading()
    blob, sent = "x" * 8_000, 0
    async with httpx.AsyncClient(base_url=server.url) as http:
        while server.manager.disconnects.get("timeout", 0) == 0:
            assert sent < 300, f"the stuck client was never closed: {server.manager.stats()}"
            assert (await http.post("/events", json=event_body("predictions", sent, blob=blob))).status_code == 202
            sent += 1
            await asyncio.sleep(0.01)
    assert server.manager.connection_count == 0
    assert server.manager.disconnects == {"timeout": 1}
    stuck.transport.abort()


async def test_closing_the_manager_says_going_away_and_it_can_start_again(serve: Callable[..., LiveServer]) -> None:
    server = serve()
    manager = server.manager
    ws = await open_client(server, ["training"])
    await server.on_server_loop(manager.close)
    assert await close_code(ws) == 1001
    assert manager.disconnects == {"shutdown": 1}
    async with connect(server.ws_url) as refused:  # a stopped manager admits nobody
        assert await close_code(refused) == 1013
    assert manager.rejected == {"unavailable": 1}

    async def restart() -> None:
        manager.start()

    await server.on_server_loop(restart)  # its metrics register again on the same registry
    ws = await open_client(server, ["training"])
    await post_events(server, [event_body("training", 0)])
    assert (await receive(ws))["type"] == "event"
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert "mlsec_ws_clients 1.0" in (await http.get("/metrics")).text
    await ws.close()
