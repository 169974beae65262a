"""Forwarding one gateway request to a service: the response cache, the stale fallback, the headers that go on.

Every endpoint the SDK declares is forwarded (the routes are generated from the `@endpoint` declarations by
`api/relay.py`), through the SDK's client of that service. A GET whose endpoint has a cache class (seed 000:
health and metrics 60 s, model info and experiments 300 s) is answered from the response cache while fresh;
when its service is down or failing, the last good answer is served marked stale (header
`X-Mlsec-Cache: stale`, and `"stale": true` in a JSON object body) instead of an error. The call goes out
through `mlsec.core.relay`, the resilient client without httpx's objects.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter
from starlette.datastructures import URL
from starlette.types import Receive, Scope

from mlsec.client import Endpoint, MainAPIClient, ServiceCallError
from mlsec.client.base import transport_error  # the SDK's own mapping of a transport error to ServiceCallError
from mlsec.client.endpoint import CACHE_TTL_SECONDS
from mlsec.core.auth import Principal
from mlsec.core.cache import Cache
from mlsec.core.errors import ServiceUnavailableError
from mlsec.core.http import timeout_for
from mlsec.core.lanes import read_body
from mlsec.core.metrics import Series
from mlsec.core.relay import relay
from mlsec.core.service_token import CALLER_HEADER
from mlsec.core.traffic import TRAFFIC_CLASS_HEADER
from mlsec.services.gateway.service.prompts import PromptAnonymizer
from mlsec.services.gateway.service.traffic import traffic_class_to_forward

# Request headers forwarded to the service; credentials of the gateway's caller are not (services trust the
# gateway through the internal service token), nor is a caller's own X-Mlsec-Caller: the gateway names the
# caller it authenticated. The traffic class goes on for operators and admins only (traffic.py). The body goes on
# as its bytes with its type and encoding, whatever they are (an OTLP exporter's gzipped protobuf to the tracing
# service's /v1/traces: decoded there, never here).
_FORWARDED_HEADERS = ("content-type", "content-encoding", "accept", "content-length")
_READ_HEADERS = {name.encode(): name for name in (*_FORWARDED_HEADERS, TRAFFIC_CLASS_HEADER.lower())}
CACHE_HEADER = "X-Mlsec-Cache"
_BUFFERED_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class CachedAnswer:
    """A service's answer as the gateway relays it, and as the response cache keeps it (JSON values)."""

    status_code: int
    body: bytes
    media_type: str
    stored_at: float  # time.time()
    disposition: str | None = None  # Content-Disposition: a download keeps its file name through the gateway

    def to_json(self) -> dict[str, Any] | None:
        """The cache entry, or None for a body that is not text (relayed, never cached)."""
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        entry = {"status_code": self.status_code, "body": text, "media_type": self.media_type, "at": self.stored_at}
        return entry if self.disposition is None else {**entry, "disposition": self.disposition}

    @classmethod
    def from_json(cls, value: Any) -> CachedAnswer | None:
        if not isinstance(value, dict):
            return None
        try:
            body = str(value["body"]).encode("utf-8")
            disposition = value.get("disposition")
            return cls(
                int(value["status_code"]),
                body,
                str(value["media_type"]),
                float(value["at"]),
                None if disposition is None else str(disposition),
            )
        except (KeyError, TypeError, ValueError):
            return None


class ProxyMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.upstream = Counter(
            "mlsec_gateway_upstream_requests_total",
            "Requests forwarded to a service, by outcome (status class, unreachable, circuit_open, ...)",
            ["service", "outcome"],
            registry=registry,
        )
        self.cache = Counter(
            "mlsec_gateway_cache_total",
            "Cached GETs by result (hit, miss, stale)",
            ["service", "result"],
            registry=registry,
        )
        self.upstream_outcome = Series(self.upstream)
        self.cache_result = Series(self.cache)


class GatewayProxy:
    """Forwards a gateway request to a service through the SDK, with response caching and stale fallback."""

    def __init__(
        self,
        client: MainAPIClient,
        cache: Cache,
        metrics: ProxyMetrics,
        *,
        stale_seconds: float,
        clock: Callable[[], float] = time.time,
        prompts: PromptAnonymizer | None = None,
    ):
        self.client = client
        self.prompts = prompts  # MLSEC_GATEWAY_ANONYMIZE_PROMPTS: prediction texts anonymized on the way (prompts.py)
        self.cache = cache
        self.metrics = metrics
        self.stale_seconds = stale_seconds
        self.clock = clock  # wall-clock seconds: cached answers may be shared through Redis between replicas
        self._timeouts: dict[tuple[str, str], httpx.Timeout] = {}

    async def forward(
        self, service: str, route: Endpoint, scope: Scope, receive: Receive, principal: Principal | None
    ) -> Response:
        """Answer a forwarded request (its ASGI scope, with `path_params`, and its body's `receive`) for the caller
        the guard let through."""
        path = _concrete_path(route.path, scope["path_params"])
        cache_key = _cache_key(service, path, scope) if route.cache else None
        if cache_key is not None:
            cached = CachedAnswer.from_json(await self.cache.get(cache_key))
            if cached is not None and self.clock() - cached.stored_at < CACHE_TTL_SECONDS[route.cache or "default"]:
                self.metrics.cache_result(service, "hit").inc()
                return _respond(cached, "hit", self.clock())
            self.metrics.cache_result(service, "miss").inc()
        try:
            answer = await self._call(service, route, path, scope, receive, principal)
        except ServiceCallError as exc:
            self.metrics.upstream_outcome(service, exc.error_type).inc()
            stale = await self._stale(service, cache_key)
            if stale is not None:
                return stale
            raise ServiceUnavailableError(
                f"{service} is not answering ({exc.error_type.replace('_', ' ')})",
                details={"service": service, "error_type": exc.error_type},
            ) from exc
        self.metrics.upstream_outcome(service, f"{answer.status_code // 100}xx").inc()
        if cache_key is not None:
            if answer.status_code >= 500:
                stale = await self._stale(service, cache_key)
                if stale is not None:
                    return stale
            elif answer.status_code < 300 and (entry := answer.to_json()) is not None:
                await self.cache.set(cache_key, entry, self.stale_seconds)
        return _respond(answer, "miss" if cache_key else None, self.clock())

    async def _call(
        self, service: str, route: Endpoint, path: str, scope: Scope, receive: Receive, principal: Principal | None
    ) -> CachedAnswer:
        found: dict[str, str] = {}
        for raw, value in scope["headers"]:
            if (name := _READ_HEADERS.get(raw)) is not None and name not in found:  # the first, as Headers.get
                found[name] = value.decode("latin-1")
        headers = [(name, value) for name in _FORWARDED_HEADERS if (value := found.get(name)) is not None]
        if isinstance(principal, Principal):  # the guard's verdict: who the service should record as the caller
            headers.append((CALLER_HEADER, principal.identity))
        if (traffic := traffic_class_to_forward(found.get(TRAFFIC_CLASS_HEADER.lower()), principal)) is not None:
            headers.append((TRAFFIC_CLASS_HEADER, traffic))
        body: bytes | AsyncIterator[bytes] | None = None
        if route.method != "GET":
            length = found.get("content-length", "")
            small = length.isdigit() and int(length) <= _BUFFERED_BODY_BYTES
            # A small body goes out in one write with its length; a large one (an upload) is streamed.
            body = await read_body(receive) if small else Request(scope, receive).stream()
            if self.prompts is not None and self.prompts.covers(service, route):
                raw = body if isinstance(body, bytes) else b"".join([chunk async for chunk in body])
                body = await self.prompts.body(route, raw)
                headers = [(n, v) for n, v in headers if n != "content-length"] + [("content-length", str(len(body)))]
        query = scope["query_string"]
        # The query string goes on as the caller wrote it (as a reverse proxy does), not decoded and re-encoded.
        target = f"{path}?{query.decode('latin-1')}" if query else path
        client = self.client.client(service)
        try:
            response = await relay(
                client.http,
                route.method,
                f"{client.base_url}{target}",
                timeout=self._timeout(service, route),
                headers=headers,
                content=body,
            )
        except httpx.HTTPError as exc:
            raise transport_error(client.service, exc) from exc
        return CachedAnswer(
            status_code=response.status_code,
            body=response.body,
            media_type=response.headers.get("content-type", "application/json"),
            stored_at=self.clock(),
            disposition=response.headers.get("content-disposition"),
        )

    def _timeout(self, service: str, route: Endpoint) -> httpx.Timeout:
        timeout = self._timeouts.get((service, route.operation))
        if timeout is None:
            client = self.client.client(service)
            timeout = self._timeouts[(service, route.operation)] = timeout_for(client.settings, route.operation)
        return timeout

    async def _stale(self, service: str, cache_key: str | None) -> Response | None:
        if cache_key is None:
            return None
        cached = CachedAnswer.from_json(await self.cache.get(cache_key))
        if cached is None:
            return None
        self.metrics.cache_result(service, "stale").inc()
        return _respond(cached, "stale", self.clock())


def _cache_key(service: str, path: str, scope: Scope) -> str:
    """Path, query and the caller's Accept (forwarded, and a service may answer by it: `/metrics` gives JSON or
    Prometheus text), so that one representation is never served for the other."""
    accept = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"accept"), "")
    return f"gw:{service}:{path}?{URL(scope=scope).query}#{accept}"


def _concrete_path(template: str, values: dict[str, Any]) -> str:
    path = template
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    return path


def _respond(answer: CachedAnswer, cache_result: str | None, now: float) -> Response:
    body = answer.body
    headers: dict[str, str] = {}
    if cache_result is not None:
        headers[CACHE_HEADER] = cache_result
    if cache_result in ("hit", "stale"):
        headers["Age"] = str(max(0, int(now - answer.stored_at)))
    if answer.disposition is not None:
        headers["Content-Disposition"] = answer.disposition
    if cache_result == "stale" and answer.media_type.startswith("application/json"):
        body = _mark_stale(body)
    return Response(body, status_code=answer.status_code, media_type=answer.media_type, headers=headers)


def _mark_stale(body: bytes) -> bytes:
    try:
        value = json.loads(body)
    except ValueError:
        return body
    if isinstance(value, dict):
        value["stale"] = True
        return json.dumps(value).encode("utf-8")
    return body
