"""A lean HTTP/1.1 client for the relay: one request with its body in hand, its whole answer, pooled keep-alive.

Why: aiohttp's client spends about 100 µs of CPU per call on its own machinery (request and response objects,
timers, payload and stream classes, tracing hooks), measured at 135 µs per round trip against 36 µs for the
same call written out in one buffer and parsed with httptools, the C parser uvicorn already uses for every
request it serves. The gateway makes one such call per forwarded request, so this is most of what a relay
costs beyond the server's own work.

Scope, kept small on purpose: plain `http://` origins, a body given as bytes (or none), any method but HEAD
(whose answer's length the parser cannot know), and the answer read in full, whatever its framing (length,
chunked, or until the connection closes). Everything else goes through aiohttp (`AiohttpTransport.exchange`
decides), as does every call the SDK makes through httpx.

It sends what aiohttp would send for the same call, byte for byte but the order of headers (aiohttp's default
headers and body headers, the same request target), and fails as aiohttp fails, mapped to the same httpx errors
(`mlsec.core.http_transport`): refused or unreachable `ConnectError`, connect or pool deadline `ConnectTimeout`,
read deadline (between two reads, aiohttp's `sock_read`) `ReadTimeout`, closed before answering
`RemoteProtocolError`, closed mid-answer `ReadError`. Like aiohttp, an idempotent call that meets a kept-alive
connection the server has just closed is sent once more on a new one; any other call is not.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

import httpx
from aiohttp.client_reqrep import ClientRequest
from aiohttp.http import SERVER_SOFTWARE

try:
    import httptools
except ImportError:  # pragma: no cover - uvicorn[standard] brings it everywhere; without it aiohttp serves alone
    httptools = None  # type: ignore[assignment]

AVAILABLE = httptools is not None
_NO_BODY_METHODS = frozenset(ClientRequest.GET_METHODS)  # aiohttp sends `Content-Length: 0` for the others
_RETRIED_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})  # aiohttp's idempotent ones
_DEFAULTS = (
    *((name.lower(), value) for name, value in ClientRequest.DEFAULT_HEADERS.items()),
    ("user-agent", SERVER_SOFTWARE),
)


@dataclass(frozen=True, slots=True)
class Exchange:
    """An answer read in full (`Http1Pool.exchange`, `AiohttpTransport.exchange`): status, headers (case-insensitive,
    the first of repeated names), the headers as they came, body."""

    status_code: int
    headers: Mapping[str, str]
    raw_headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


class _StaleConnectionError(Exception):
    """A kept-alive connection closed by the server before any byte of the answer."""


def wire_headers(method: str, headers: list[tuple[str, str]], body: bytes | None) -> list[tuple[str, str]]:
    """`headers` (lower-case names) plus what aiohttp adds to the same call: its default headers, the body's
    length and type."""
    names = {name for name, _ in headers}
    added = [(name, value) for name, value in _DEFAULTS if name not in names]
    if "content-length" not in names and (body or method not in _NO_BODY_METHODS):
        added.append(("content-length", str(len(body or b""))))
    if "content-type" not in names and (body or method in ClientRequest.POST_METHODS):
        added.append(("content-type", "application/octet-stream"))
    return headers + added if added else headers


class _Connection(asyncio.Protocol):
    """One keep-alive connection; answers one request at a time."""

    def __init__(self, pool: Http1Pool, key: tuple[str, int]):
        self.pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.loop = asyncio.get_running_loop()
        self.waiter: asyncio.Future[tuple[int, list[tuple[bytes, bytes]], bytes]] | None = None
        self.lost = False
        self.reusable = True
        self.idle_since = 0.0
        self.last_read = 0.0
        self.deadline: asyncio.TimerHandle | None = None
        self._begin()

    def _begin(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.started = self.framed = self.headers_done = False

    # --- asyncio.Protocol ---

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio's classes

    def data_received(self, data: bytes) -> None:
        self.last_read = self.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.TransportError(f"invalid answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.pool.lost(self)
        if self.waiter is None or self.waiter.done():
            return
        if self.headers_done and not self.framed and self.parser.get_status_code() >= 200:
            self._complete()  # an answer delimited by the close: this was its end
        elif not self.started:
            self.waiter.set_exception(_StaleConnectionError())
        else:
            self.waiter.set_exception(httpx.ReadError(str(exc) if exc else "connection closed mid-answer"))

    # --- httptools' callbacks ---

    def on_message_begin(self) -> None:
        self._begin()
        self.started = True

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        lower = name.lower()
        if lower == b"content-length" or (lower == b"transfer-encoding" and b"chunked" in value.lower()):
            self.framed = True

    def on_headers_complete(self) -> None:
        self.headers_done = True
        status = self.parser.get_status_code()
        if status in (204, 304):
            self.framed = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.parser.get_status_code() < 200:  # an interim answer (103 Early Hints): the real one follows
            self._begin()
            return
        self.reusable = self.reusable and self.parser.should_keep_alive()
        self._complete()

    # --- the exchange ---

    def _complete(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((self.parser.get_status_code(), self.headers, b"".join(self.body)))

    def _fail(self, exc: Exception) -> None:
        self.reusable = False
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    async def send(self, data: bytes, read_timeout: float | None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        assert self.transport is not None
        self._begin()
        self.waiter = self.loop.create_future()
        self.last_read = self.loop.time()
        self.transport.write(data)
        if read_timeout is not None:
            self.deadline = self.loop.call_at(self.last_read + read_timeout, self._deadline, read_timeout)
        try:
            return await self.waiter
        except BaseException:
            self.reusable = False  # cancelled or failed mid-exchange: what is left on the wire is unknown
            raise
        finally:
            if self.deadline is not None:
                self.deadline.cancel()
                self.deadline = None
            self.waiter = None

    def _deadline(self, read_timeout: float) -> None:
        """aiohttp's `sock_read`: the time allowed between two reads, from the request's sending on."""
        if self.waiter is None or self.waiter.done():
            return
        left = self.last_read + read_timeout - self.loop.time()
        if left > 0:  # data came meanwhile: wait the rest
            self.deadline = self.loop.call_later(left, self._deadline, read_timeout)
            return
        self._fail(httpx.ReadTimeout("read timeout"))


class Http1Pool:
    """Keep-alive connections per `host:port`, at most `max_connections` open at once (waiting for one, as
    aiohttp's pool waits, within the connect timeout); a connection idle longer than `keepalive_expiry` is
    closed rather than reused."""

    def __init__(self, *, max_connections: int, keepalive_expiry: float):
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._opening = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def exchange(
        self,
        method: str,
        host: str,
        port: int,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        timeout: httpx.Timeout,  # noqa: ASYNC109 - the call's, in httpx's terms
    ) -> Exchange:
        """Send `method target` to `host:port` with exactly these headers (see `wire_headers`) and `body`."""
        head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers)
        data = (head + "\r\n").encode("utf-8") + (body or b"")
        retry = method in _RETRIED_METHODS
        while True:
            connection, reused = await self._acquire((host, port), timeout)
            try:
                status, raw, answer = await connection.send(data, timeout.read)
            except _StaleConnectionError:
                self._release(connection)
                if not (retry and reused):
                    raise httpx.RemoteProtocolError("server disconnected") from None
                retry = False
                continue
            except BaseException:
                self._release(connection)
                raise
            self._release(connection)
            found: dict[str, str] = {}
            for name, value in raw:  # case-insensitive, the first of repeated names, as aiohttp's `get`
                found.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
            return Exchange(status, found, tuple(raw), answer)

    async def _acquire(self, key: tuple[str, int], timeout: httpx.Timeout) -> tuple[_Connection, bool]:  # noqa: ASYNC109
        connection = self._idle_connection(key)
        if connection is not None:
            return connection, True
        budget = (
            None if timeout.connect is None and timeout.pool is None else (timeout.connect or 0) + (timeout.pool or 0)
        )
        try:
            async with asyncio.timeout(budget):
                while len(self._open) + self._opening >= self.max_connections:
                    if self._evict_idle():  # room made by closing another host's idle connection
                        continue
                    waiter = asyncio.get_running_loop().create_future()
                    self._waiters.append(waiter)
                    try:
                        await waiter
                    finally:
                        with contextlib.suppress(ValueError):
                            self._waiters.remove(waiter)
                    connection = self._idle_connection(key)
                    if connection is not None:
                        return connection, True
                return await self._connect(key, timeout.connect), False
        except TimeoutError:
            raise httpx.ConnectTimeout("timed out waiting for a connection") from None

    def _idle_connection(self, key: tuple[str, int]) -> _Connection | None:
        """The most recently used idle connection to `key` that is still open and fresh; stale ones are closed."""
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if not connection.lost and connection.loop.time() - connection.idle_since < self.keepalive_expiry:
                return connection
            self._close(connection)
        return None

    def _evict_idle(self) -> bool:
        for idle in self._idle.values():
            if idle:
                self._close(idle.pop(0))
                return True
        return False

    async def _connect(self, key: tuple[str, int], connect_timeout: float | None) -> _Connection:
        self._opening += 1
        try:
            loop = asyncio.get_running_loop()
            async with asyncio.timeout(connect_timeout):
                _, connection = await loop.create_connection(lambda: _Connection(self, key), *key)
        except TimeoutError:  # an OSError too: first
            raise httpx.ConnectTimeout(f"timed out connecting to {key[0]}:{key[1]}") from None
        except OSError as exc:
            raise httpx.ConnectError(f"cannot connect to {key[0]}:{key[1]}: {exc.strerror or exc}") from exc
        finally:
            self._opening -= 1
        self._open.add(connection)
        return connection

    def _release(self, connection: _Connection) -> None:
        if connection.reusable and not connection.lost:
            connection.idle_since = connection.loop.time()
            self._idle.setdefault(connection.key, []).append(connection)
        else:
            self._close(connection)
        self._wake()

    def _close(self, connection: _Connection) -> None:
        if connection.transport is not None and not connection.lost:
            connection.transport.close()
        self.lost(connection)

    def lost(self, connection: _Connection) -> None:
        """A connection closed (by either side): it no longer counts against the limit."""
        if connection in self._open:
            self._open.discard(connection)
            self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def aclose(self) -> None:
        for connection in list(self._open):
            self._close(connection)
        self._idle.clear()
        await asyncio.sleep(0)
