"""`relay`: one call relayed to a platform service, through the resilient client, without httpx's objects.

The gateway forwards every `/api/<service>/...` call, and building an httpx request and response for each (URL
and header normalisation, byte streams, decoders) cost more than a third of what the gateway spent relaying a
prediction. `relay` sends the same call as `mlsec.core.http.send` (the same headers, bytes and URL, the same
client defaults and credentials, the request id and trace context) through the same resilience layer (circuit
breaker, retries of idempotent calls, timeouts, error mapping) straight to the aiohttp session underneath, and
hands back the answer as httpx would have read it (decoded per its Content-Encoding).

Where the client is not the platform's (a test's mock transport, credentials that are more than fixed headers
per origin), `relay` goes through `send` instead: same answer, httpx's cost.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

import httpx
import yarl

from mlsec.core.auth import OriginHeaders
from mlsec.core.http import ResilientTransport, context_headers, send, target_of
from mlsec.core.http_transport import AiohttpTransport, Target

Content = bytes | AsyncIterator[bytes] | None
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})  # httpx sends `Content-Length: 0` when they have no body


@dataclass(frozen=True, slots=True)
class Relayed:
    """A service's answer: status, headers (case-insensitive), body decoded as httpx decodes it."""

    status_code: int
    headers: Mapping[str, str]
    body: bytes


async def relay(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    timeout: httpx.Timeout,  # noqa: ASYNC109 - per call, as `send` takes it
    headers: Sequence[tuple[str, str]] = (),
    content: Content = None,
) -> Relayed:
    """`send(client, method, url, ...)` at a fraction of the cost, same call and same answer; transport errors are
    httpx's, as `send` raises them."""
    transport = client._transport
    if (
        not isinstance(transport, ResilientTransport)
        or not isinstance(transport.inner, AiohttpTransport)
        or not (client.auth is None or isinstance(client.auth, OriginHeaders))
    ):
        response = await send(client, method, url, timeout=timeout, headers=list(headers), content=content)
        return Relayed(response.status_code, response.headers, response.content)
    where = _destination(url)
    sent = _request_headers(client, where, method, headers, content)
    body = content or None  # an empty body is sent as none, as the httpx path sends it
    exchange = functools.partial(transport.inner.exchange, method, where.target, sent, body, timeout)
    answer = await transport.call(method, where.breaker, exchange, retries=transport.retries)
    if "content-encoding" in answer.headers:  # decoded as httpx decodes it (gzip, deflate, ...)
        decoded = httpx.Response(answer.status_code, headers=answer.raw_headers, content=answer.body).content
        return Relayed(answer.status_code, answer.headers, decoded)
    return Relayed(answer.status_code, answer.headers, answer.body)


@dataclass(frozen=True, slots=True)
class _Destination:
    target: Target  # the URL as httpx writes it (normalised, percent-encoded), and its parts as aiohttp reads them
    breaker: str  # the circuit breaker's key
    netloc: str  # the Host header
    origin: str  # scheme://netloc: which credentials it gets


@functools.lru_cache(maxsize=4096)
def _destination(url: str) -> _Destination:
    """The URLs a relay sends repeat (`/predict`, ...): parsed once."""
    parsed = httpx.URL(url)
    netloc = parsed.netloc.decode("ascii")
    sent = yarl.URL(str(parsed))  # how aiohttp reads the URL it is given
    target = Target(str(parsed), sent.scheme, sent.raw_host or "", sent.port or 80, sent.raw_path_qs)
    return _Destination(target, target_of(parsed), netloc, f"{parsed.scheme}://{netloc}")


def _request_headers(
    client: httpx.AsyncClient, where: _Destination, method: str, call: Sequence[tuple[str, str]], content: Content
) -> list[tuple[str, str]]:
    """The headers httpx would send, in its order, names in lower case as its transport hands them on: the
    client's defaults, the call's own over them, the body's framing, `Host`, the client's credentials for the
    origin and the request's context, each of the last two unless the call set it."""
    own = [(name.lower(), value) for name, value in call]
    overridden = {name for name, _ in own}  # httpx's Headers.update: a name the call sets replaces the client's
    sent = [item for item in client.headers.multi_items() if item[0] not in overridden]
    sent += own
    names = {name for name, _ in sent}
    if isinstance(content, bytes):
        if content and "content-length" not in names:
            sent.append(("content-length", str(len(content))))
            names.add("content-length")
    elif content is not None and "content-length" not in names:
        names.add("transfer-encoding")  # aiohttp frames a stream itself: the header is not passed on
    auto = [] if "host" in names else [("host", where.netloc)]
    if method in _BODY_METHODS and not names & {"content-length", "transfer-encoding"}:
        auto.append(("content-length", "0"))
    sent = auto + sent
    names.update(name for name, _ in auto)
    for name, value in (*_credentials(client.auth, where.origin), *context_headers()):
        if name not in names:
            sent.append((name, value))
            names.add(name)
    return sent


_ORIGIN_HEADERS: weakref.WeakKeyDictionary[OriginHeaders, dict[str, list[tuple[str, str]]]] = (
    weakref.WeakKeyDictionary()
)


def _credentials(auth: httpx.Auth | None, origin: str) -> list[tuple[str, str]]:
    """What the client's credentials add to a call to `origin`: found once per origin by letting them act on a
    bare request (fixed headers per origin are all an `OriginHeaders` adds)."""
    if auth is None:
        return []
    assert isinstance(auth, OriginHeaders)
    known = _ORIGIN_HEADERS.setdefault(auth, {})
    found = known.get(origin)
    if found is None:
        bare = httpx.Request("GET", origin)
        before = set(bare.headers.multi_items())
        signed = next(auth.auth_flow(bare))
        found = known[origin] = [item for item in signed.headers.multi_items() if item not in before]
    return found
