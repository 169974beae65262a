"""The aiohttp transport under httpx: what crosses the wire, and which httpx error each failure becomes."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse

from mlsec.core.http_transport import EAGER_READ_BYTES, AiohttpTransport
from tests.servers import ThreadedServer, free_port

pytestmark = pytest.mark.anyio


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        body = await request.body()
        headers = {"x-seen-length": request.headers.get("content-length", "none"), "x-seen-type": "yes"}
        headers["x-seen-custom"] = ",".join(request.headers.getlist("x-custom"))
        return Response(body, media_type="application/octet-stream", headers=headers)

    @app.get("/gzip")
    async def gzipped() -> Response:
        return Response(
            gzip.compress(b'{"ok": true}'), media_type="application/json", headers={"content-encoding": "gzip"}
        )

    @app.get("/cookies")
    async def cookies() -> Response:
        response = Response("{}", media_type="application/json")
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    @app.get("/slow")
    async def slow() -> Response:
        await asyncio.sleep(2)
        return Response("late")

    @app.get("/chunks")
    async def chunks() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for index in range(3):
                yield f"part{index};".encode()
                await asyncio.sleep(0.2)

        return StreamingResponse(parts(), media_type="text/plain")  # no Content-Length: chunked

    @app.get("/big")
    async def big() -> Response:
        return Response(b"x" * (EAGER_READ_BYTES + 1), media_type="application/octet-stream")

    @app.get("/status/{code}")
    async def status(code: int) -> Response:
        return Response("x", status_code=code)

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer(_app()) as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=AiohttpTransport()) as http:
        yield http


async def test_body_headers_and_status_cross_unchanged(server: ThreadedServer, client: httpx.AsyncClient) -> None:
    payload = bytes(range(256)) * 100
    response = await client.post(
        f"{server.url}/echo", content=payload, headers=[("x-custom", "one"), ("x-custom", "two")]
    )
    assert response.status_code == 200
    assert response.content == payload
    assert response.headers["x-seen-length"] == str(len(payload))
    assert response.headers["x-seen-custom"] == "one,two"  # repeated request headers all arrive
    assert (await client.get(f"{server.url}/status/418")).status_code == 418


async def test_a_streamed_body_is_sent_whole(server: ThreadedServer, client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for index in range(50):
            yield f"chunk-{index};".encode()

    response = await client.post(f"{server.url}/echo", content=chunks())
    assert response.content == b"".join(f"chunk-{index};".encode() for index in range(50))


async def test_compressed_bodies_are_decoded_once_by_httpx(server: ThreadedServer, client: httpx.AsyncClient) -> None:
    response = await client.get(f"{server.url}/gzip")
    assert response.json() == {"ok": True}


async def test_repeated_response_headers_are_kept(server: ThreadedServer, client: httpx.AsyncClient) -> None:
    response = await client.get(f"{server.url}/cookies")
    assert len(response.headers.get_list("set-cookie")) == 2


async def test_connections_are_reused(server: ThreadedServer) -> None:
    transport = AiohttpTransport()
    async with httpx.AsyncClient(transport=transport) as http:
        for _ in range(20):
            assert (await http.post(f"{server.url}/echo", content=b"x")).status_code == 200
        session = transport._session
        assert session is not None
        assert len(session.connector._conns) == 1  # type: ignore[union-attr]  # one idle keep-alive connection


async def test_a_refused_connection_is_a_connect_error(client: httpx.AsyncClient) -> None:
    with pytest.raises(httpx.ConnectError):
        await client.get(f"http://127.0.0.1:{free_port()}/")


async def test_a_slow_answer_is_a_read_timeout(server: ThreadedServer, client: httpx.AsyncClient) -> None:
    with pytest.raises(httpx.ReadTimeout):
        await client.get(f"{server.url}/slow", timeout=httpx.Timeout(5.0, read=0.2))


@pytest.fixture
def hang_up_server() -> Iterator[int]:
    """Accepts connections, reads the request, and closes without answering."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.recv(65536)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    listener.close()


async def test_a_dropped_connection_is_a_protocol_error(hang_up_server: int, client: httpx.AsyncClient) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get(f"http://127.0.0.1:{hang_up_server}/")


async def test_closing_the_client_closes_the_session(server: ThreadedServer) -> None:
    transport = AiohttpTransport()
    async with httpx.AsyncClient(transport=transport) as http:
        await http.get(f"{server.url}/cookies")
    assert transport._session is not None
    assert transport._session.closed


async def test_small_answers_are_whole_and_large_ones_arrive_as_streamed(
    server: ThreadedServer, client: httpx.AsyncClient
) -> None:
    """A sized answer under EAGER_READ_BYTES is read by the transport; a larger one, or one without a length,
    is handed over as a stream that the caller reads as it arrives."""
    small = await client.post(f"{server.url}/echo", content=b"abc")
    assert small.content == b"abc"
    assert len((await client.get(f"{server.url}/big")).content) == EAGER_READ_BYTES + 1
    loop = asyncio.get_running_loop()
    async with client.stream("GET", f"{server.url}/chunks") as response:
        arrivals = [(chunk, loop.time()) async for chunk in response.aiter_raw()]
    assert b"".join(chunk for chunk, _ in arrivals) == b"part0;part1;part2;"
    assert arrivals[-1][1] - arrivals[0][1] >= 0.3  # the first part was handed over before the last was sent
