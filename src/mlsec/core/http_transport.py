"""An httpx transport that sends requests with aiohttp's client.

Why: httpx's own connection pool (httpcore) costs ~1.5 ms of CPU per request at 16 concurrent requests on a
2-core machine (it polls every idle connection's socket and runs anyio machinery on each call); aiohttp's
C-accelerated client costs ~0.15 ms for the same request. Every service-to-service call and every request the
gateway relays pays this, so the SDK keeps httpx's API (and our resilient transport, MockTransport in tests)
and swaps only the layer that talks to the socket.

The relay's calls (`exchange`, see `mlsec.core.relay`) skip httpx's objects altogether and, when their body is in
hand, aiohttp's too: the lean HTTP/1.1 client of `mlsec.core.http1` sends them, with the same errors.

aiohttp's errors are mapped to httpx's in one place, precisely enough for the resilience layer: a refused
connection is `ConnectError` (unreachable), a connect or read deadline `ConnectTimeout` / `ReadTimeout`, a
connection dropped mid-answer `RemoteProtocolError` or `ReadError`.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx

from mlsec.core import http1
from mlsec.core.http1 import Exchange

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
EAGER_READ_BYTES = 256 * 1024
"""Answers up to this size with a Content-Length are read by the transport at once; larger or unsized ones
(downloads, chunked streams) are handed to httpx as a stream, read only as the caller iterates."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a relayed call goes, parsed once: the URL as sent, and its parts."""

    url: str
    scheme: str
    host: str
    port: int
    path_qs: str  # the request target, as aiohttp writes it


@contextmanager
def _httpx_errors(request: httpx.Request | None) -> Iterator[None]:
    """Re-raise aiohttp's (and asyncio's timeout) errors as the httpx error that means the same."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:  # connecting, or waiting for a pooled connection
        raise httpx.ConnectTimeout(str(exc) or "connect timeout", request=request) from exc
    except (aiohttp.ServerTimeoutError, TimeoutError) as exc:  # asyncio.TimeoutError is TimeoutError on 3.11+
        raise httpx.ReadTimeout(str(exc) or "read timeout", request=request) from exc
    except aiohttp.ClientConnectorError as exc:  # refused, unknown host, unreachable network
        raise httpx.ConnectError(str(exc), request=request) from exc
    except aiohttp.ServerDisconnectedError as exc:
        raise httpx.RemoteProtocolError(str(exc) or "server disconnected", request=request) from exc
    except (aiohttp.ClientPayloadError, aiohttp.ClientOSError) as exc:
        raise httpx.ReadError(str(exc), request=request) from exc
    except aiohttp.InvalidURL as exc:
        raise httpx.UnsupportedProtocol(str(exc), request=request) from exc
    except aiohttp.ClientError as exc:
        raise httpx.TransportError(str(exc) or type(exc).__name__, request=request) from exc


class _ResponseStream(httpx.AsyncByteStream):
    """The body of an aiohttp response, read as httpx reads a stream; closing it frees the connection."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request):
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors(self._request):
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        # Back to the pool when the body was read to the end, closed otherwise (aiohttp's rule).
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests over one aiohttp session (its own pool), created on first use in the running loop.

    Cookies, redirects, authentication and decompression stay httpx's business: the session keeps no cookies,
    follows no redirects and hands bodies back as they came.
    """

    def __init__(self, *, limits: httpx.Limits = DEFAULT_LIMITS):
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None
        self._pool: http1.Http1Pool | None = None

    def _session_for_loop(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limits.max_connections or 0,
                keepalive_timeout=self._limits.keepalive_expiry or 0.0,
                enable_cleanup_closed=False,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                trust_env=False,
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        headers = request.headers.multi_items()
        data: Any
        try:
            data = request.content or None
        except httpx.RequestNotRead:  # a streamed body: aiohttp frames it (chunked unless a length is given)
            data = request.stream
            headers = [(name, value) for name, value in headers if name.lower() != "transfer-encoding"]
        timeout = request.extensions.get("timeout", {})
        with _httpx_errors(request):
            response = await self._open(
                request.method,
                str(request.url),
                headers,
                data,
                _timeout(timeout.get("connect"), timeout.get("pool"), timeout.get("read")),
            )
            reason = (response.reason or "").encode("ascii", "replace")
            extensions = {"http_version": b"HTTP/1.1", "reason_phrase": reason}
            length = response.content_length
            if length is not None and length <= EAGER_READ_BYTES:
                # A small answer of known length (every JSON answer of our services) is read here in one go:
                # half the CPU of handing httpx a stream to iterate. Decoding stays httpx's, on read.
                body = await response.read()
                return httpx.Response(
                    response.status, headers=response.raw_headers, content=body, extensions=extensions
                )
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response, request),
            extensions=extensions,
        )

    async def exchange(
        self,
        method: str,
        target: Target,
        headers: list[tuple[str, str]],
        data: Any,
        timeout: httpx.Timeout,  # noqa: ASYNC109 - per call
    ) -> Exchange:
        """One request and its whole answer, without httpx's request and response objects (the relay's path,
        `mlsec.core.relay`): the same timeouts and error mapping as `handle_async_request`, whose errors it
        raises (with no request attached). Sent by the lean HTTP/1.1 client (`mlsec.core.http1`) when it can
        carry the call, which is every relayed call with its body in hand; by the aiohttp session otherwise."""
        lean = data is None or isinstance(data, bytes)
        if lean and target.scheme == "http" and method != "HEAD" and http1.AVAILABLE:
            pool = self._pool_for_loop()
            return await pool.exchange(
                method,
                target.host,
                target.port,
                target.path_qs,
                http1.wire_headers(method, headers, data),
                data,
                timeout,
            )
        with _httpx_errors(None):
            response = await self._open(
                method, target.url, headers, data, _timeout(timeout.connect, timeout.pool, timeout.read)
            )
            try:
                body = await response.read()
            finally:
                response.release()
        return Exchange(response.status, response.headers, tuple(response.raw_headers), body)

    def _pool_for_loop(self) -> http1.Http1Pool:
        if self._pool is None:
            self._pool = http1.Http1Pool(
                max_connections=self._limits.max_connections or 100,
                keepalive_expiry=self._limits.keepalive_expiry or 0.0,
            )
        return self._pool

    async def _open(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        data: Any,
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109
    ) -> aiohttp.ClientResponse:
        return await self._session_for_loop().request(
            method, url, headers=headers, data=data, allow_redirects=False, timeout=timeout
        )

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None
        if self._session is not None and not self._session.closed:
            await self._session.close()
            await asyncio.sleep(0)  # let the connector's transports finish closing before the loop may end


@functools.lru_cache(maxsize=64)
def _timeout(connect: float | None, pool: float | None, read: float | None) -> aiohttp.ClientTimeout:
    """httpx's per-request timeouts in aiohttp's terms (aiohttp has no write timeout); the few distinct ones
    (one per operation class) are made once."""
    acquire = None if connect is None and pool is None else (connect or 0.0) + (pool or 0.0)
    return aiohttp.ClientTimeout(total=None, connect=acquire, sock_connect=connect, sock_read=read)
