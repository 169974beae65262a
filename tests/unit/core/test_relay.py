"""`relay`: the same call as `send` on the wire, the same answer as httpx reads it, the same failures, kept-alive.

A raw HTTP/1.1 server on a socket records every request as it arrives (request line, headers, body) and answers
from a script, so what each path sends is compared byte for byte (but the order of headers), and the answers
that a framework would never give (a close-delimited body, a connection dropped before answering) can be given.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider

from mlsec.core import http1
from mlsec.core.auth import OriginHeaders
from mlsec.core.http import BreakerRegistry, CircuitOpenError, create_http_client, send, timeout_for
from mlsec.core.logging import reset_request_id, set_request_id
from mlsec.core.relay import relay
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio
JSON = b'{"label": 1, "score": 0.97}'


@dataclass
class Seen:
    line: str
    headers: list[tuple[str, str]]
    body: bytes
    connection: int


Answer = Callable[[Seen], bytes | None]  # the bytes to answer, or None to close without answering


def ok(body: bytes = JSON, *extra: str) -> bytes:
    head = "".join(f"{line}\r\n" for line in extra)
    return (
        f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n{head}\r\n".encode()
        + body
    )


@dataclass
class RawServer:
    answer: Answer
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    port: int = 0

    async def start(self) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")[:-2]
                headers = [
                    (name.strip().lower(), value.strip()) for name, _, value in (h.partition(":") for h in head[1:])
                ]
                found = dict(headers)
                if "content-length" in found:
                    body = await reader.readexactly(int(found["content-length"]))
                elif found.get("transfer-encoding") == "chunked":
                    body = b""
                    while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                        body += (await reader.readexactly(size + 2))[:-2]
                    await reader.readuntil(b"\r\n")
                else:
                    body = b""
                seen = Seen(head[0], headers, body, number)
                self.seen.append(seen)
                answer = self.answer(seen)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if b"connection: close" in answer.lower():
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    async def stop(self) -> None:
        self.server.close()


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(tmp_path, http_retries=0, http_timeout_prediction=0.5)
    http = create_http_client(settings, breakers=BreakerRegistry(fail_max=2, reset_timeout=30))
    try:
        yield http
    finally:
        await http.aclose()


async def _server(answer: Answer) -> RawServer:
    return await RawServer(answer).start()


TIMEOUT = httpx.Timeout(2.0, connect=1.0)
CASES: list[tuple[str, str, list[tuple[str, str]], Any]] = [
    (
        "POST",
        "/predict",
        [("content-type", "application/json"), ("content-length", "12"), ("X-Mlsec-Caller", "api_key:k1")],
        b'{"text":"x"}',
    ),
    ("GET", "/models/a%2Fb?limit=5&q=%20x", [("accept", "application/json")], None),
    ("DELETE", "/models/m", [], None),
    ("POST", "/models/load", [], b""),
    ("PUT", "/config/m", [], b"raw bytes"),
]


@pytest.mark.parametrize(("method", "path", "headers", "body"), CASES)
async def test_relay_sends_what_send_sends(
    client: httpx.AsyncClient, method: str, path: str, headers: list[tuple[str, str]], body: bytes | None
) -> None:
    server = await _server(lambda seen: ok())
    client.auth = OriginHeaders({("http", "127.0.0.1", server.port): {"X-Mlsec-Service-Token": "s" * 32}})
    token = set_request_id("req-42")
    try:
        with TracerProvider().get_tracer("test").start_as_current_span("request"):
            await send(client, method, server.url + path, timeout=TIMEOUT, headers=headers, content=body)
            await relay(client, method, server.url + path, timeout=TIMEOUT, headers=headers, content=body)
    finally:
        reset_request_id(token)
        await server.stop()
    by_send, by_relay = server.seen
    assert by_relay.line == by_send.line
    assert sorted(by_relay.headers) == sorted(by_send.headers)
    assert by_relay.body == by_send.body
    names = {name for name, _ in by_relay.headers}
    assert {"x-request-id", "traceparent", "x-mlsec-service-token", "host"} <= names


def _gzip(seen: Seen) -> bytes:
    packed = gzip.compress(JSON)
    return ok(packed, "content-encoding: gzip")


def _chunked(seen: Seen) -> bytes:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n"
    return head + b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"


def _until_close(seen: Seen) -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nto the end"


def _no_content(seen: Seen) -> bytes:
    return b"HTTP/1.1 204 No Content\r\n\r\n"


def _failing(seen: Seen) -> bytes:
    head = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: 2\r\n"
    return head + b"retry-after: 3\r\n\r\n{}"


@pytest.mark.parametrize("answer", [_gzip, _chunked, _until_close, _no_content, _failing])
async def test_relay_answers_as_httpx_reads_them(client: httpx.AsyncClient, answer: Answer) -> None:
    server = await _server(answer)
    try:
        expected = await send(client, "POST", server.url + "/x", timeout=TIMEOUT, content=b"{}")
        got = await relay(client, "POST", server.url + "/x", timeout=TIMEOUT, content=b"{}")
    finally:
        await server.stop()
    assert got.status_code == expected.status_code
    assert got.body == expected.content
    assert got.headers.get("content-type") == expected.headers.get("content-type")
    assert got.headers.get("retry-after") == expected.headers.get("retry-after")


async def test_connections_are_kept_alive_and_reused(client: httpx.AsyncClient) -> None:
    server = await _server(lambda seen: ok())
    try:
        for _ in range(5):
            assert (await relay(client, "POST", server.url + "/predict", timeout=TIMEOUT, content=b"{}")).body == JSON
    finally:
        await server.stop()
    assert server.connections == 1
    assert client._transport.inner._pool is not None  # type: ignore[attr-defined]  # the lean client carried them


async def test_a_connection_the_server_closed_is_retried_for_an_idempotent_call_only(client: httpx.AsyncClient) -> None:
    """The second request on each connection meets a server that drops it without answering (a keep-alive
    connection closed as the call went out): a GET is sent again on a new connection, a POST fails."""
    server = await _server(lambda seen: None if sum(s.connection == seen.connection for s in server.seen) > 1 else ok())
    try:
        await relay(client, "GET", server.url + "/a", timeout=TIMEOUT)
        assert (await relay(client, "GET", server.url + "/b", timeout=TIMEOUT)).body == JSON
        assert server.connections == 2
        with pytest.raises(httpx.RemoteProtocolError):
            await relay(client, "POST", server.url + "/c", timeout=TIMEOUT, content=b"{}")
    finally:
        await server.stop()


async def test_failures_are_httpx_errors_and_open_the_circuit(client: httpx.AsyncClient) -> None:
    silent = await _server(lambda seen: None)
    try:
        with pytest.raises(httpx.RemoteProtocolError):  # closed before answering, on a fresh connection
            await relay(client, "POST", silent.url + "/x", timeout=TIMEOUT, content=b"{}")
    finally:
        await silent.stop()
    with pytest.raises(httpx.ConnectError):  # nothing listens there any more; the breaker's second failure
        await relay(client, "POST", silent.url + "/x", timeout=TIMEOUT, content=b"{}")
    with pytest.raises(CircuitOpenError):
        await relay(client, "POST", silent.url + "/x", timeout=TIMEOUT, content=b"{}")


async def test_a_service_that_does_not_answer_in_time_is_a_read_timeout(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    hung: asyncio.Event = asyncio.Event()

    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await hung.wait()
        writer.close()

    server = await asyncio.start_server(never, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    timeout = timeout_for(make_settings(tmp_path, http_timeout_prediction=0.3), "prediction")
    try:
        with pytest.raises(httpx.ReadTimeout):
            await relay(client, "POST", f"http://127.0.0.1:{port}/predict", timeout=timeout, content=b"{}")
    finally:
        hung.set()
        server.close()


async def test_without_the_lean_client_aiohttp_carries_the_same_call(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await _server(_chunked)
    try:
        lean = await relay(client, "POST", server.url + "/x", timeout=TIMEOUT, content=b"{}")
        monkeypatch.setattr(http1, "AVAILABLE", False)
        carried = await relay(client, "POST", server.url + "/x", timeout=TIMEOUT, content=b"{}")
    finally:
        await server.stop()
    assert (carried.status_code, carried.body) == (lean.status_code, lean.body) == (200, b"hello world")
    assert sorted(server.seen[0].headers) == sorted(server.seen[1].headers)


async def test_a_streamed_body_goes_out_chunked(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"one,", b"two"):
            yield part

    server = await _server(lambda seen: ok(seen.body))
    try:
        answer = await relay(client, "POST", server.url + "/upload", timeout=TIMEOUT, content=chunks())
    finally:
        await server.stop()
    assert answer.body == b"one,two"
    assert ("transfer-encoding", "chunked") in server.seen[0].headers


async def test_the_pool_holds_at_most_its_limit_and_shares_it_between_hosts() -> None:
    first, second = await _server(lambda seen: ok()), await _server(lambda seen: ok())
    pool = http1.Http1Pool(max_connections=2, keepalive_expiry=5.0)

    async def call(server: RawServer) -> bytes:
        headers = http1.wire_headers("GET", [("host", f"127.0.0.1:{server.port}")], None)
        return (await pool.exchange("GET", "127.0.0.1", server.port, "/", headers, None, TIMEOUT)).body

    try:
        assert await asyncio.gather(*(call(first) for _ in range(6))) == [JSON] * 6
        assert first.connections <= 2
        assert await call(second) == JSON  # the limit is reached by idle connections to `first`: one makes room
    finally:
        await pool.aclose()
        await first.stop()
        await second.stop()
