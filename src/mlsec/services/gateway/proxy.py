"""`/api/<service>/...`: every endpoint the SDK declares, forwarded through the SDK's client of that service.

The routes are generated from the SDK's `@endpoint` declarations, so the gateway covers exactly what the
SDK covers (and the coverage test holds both to the services' OpenAPI). A GET whose endpoint has a cache
class (seed 000: health and metrics 60 s, model info and experiments 300 s) is answered from the response
cache while fresh; when its service is down or failing, the last good answer is served marked stale (header
`X-Mlsec-Cache: stale`, and `"stale": true` in a JSON object body) instead of an error.

Every forwarded route is declared twice over, on purpose: as a FastAPI route (OpenAPI, the docs, the
permission matrix) and, ahead of all of them, in one `RelayRoute` that serves those same routes on a
short path: a dictionary lookup by service instead of a scan of every route, and the gateway's guard
called directly instead of through FastAPI's dependency machinery. Both paths run the same guard and the
same `GatewayProxy.forward`, under the same middleware (request id, metrics, tracing, error envelope).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry, Counter
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from mlsec.client import CLIENT_CLASSES, Endpoint, MainAPIClient, ServiceCallError, endpoints
from mlsec.client.endpoint import CACHE_TTL_SECONDS
from mlsec.core.auth import Principal
from mlsec.core.cache import Cache
from mlsec.core.errors import ServiceUnavailableError
from mlsec.core.openapi import error_responses
from mlsec.core.service_token import CALLER_HEADER
from mlsec.core.traffic import TRAFFIC_CLASS_HEADER
from mlsec.services.gateway.traffic import forwarded_traffic_class

# Response headers a service's answer keeps through the gateway (hop-by-hop and length headers are not).
_PASSED_HEADERS = ("content-type", "content-disposition", "retry-after", "www-authenticate", "location")
# Request headers forwarded to the service; credentials of the gateway's caller are not (services trust the
# gateway through the internal service token), nor is a caller's own X-Mlsec-Caller: the gateway names the
# caller it authenticated. The traffic class goes on for operators and admins only (traffic.py).
_FORWARDED_HEADERS = ("content-type", "accept", "content-length")
CACHE_HEADER = "X-Mlsec-Cache"
_BUFFERED_BODY_BYTES = 1024 * 1024
_PATH_PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")  # `{name}` or `{name:convertor}`


@dataclass(frozen=True)
class CachedAnswer:
    """A service's answer as the gateway relays it, and as the response cache keeps it (JSON values)."""

    status_code: int
    body: bytes
    media_type: str
    stored_at: float  # time.time()

    def to_json(self) -> dict[str, Any] | None:
        """The cache entry, or None for a body that is not text (relayed, never cached)."""
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return {"status_code": self.status_code, "body": text, "media_type": self.media_type, "at": self.stored_at}

    @classmethod
    def from_json(cls, value: Any) -> CachedAnswer | None:
        if not isinstance(value, dict):
            return None
        try:
            body = str(value["body"]).encode("utf-8")
            return cls(int(value["status_code"]), body, str(value["media_type"]), float(value["at"]))
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
    ):
        self.client = client
        self.cache = cache
        self.metrics = metrics
        self.stale_seconds = stale_seconds
        self.clock = clock  # wall-clock seconds: cached answers may be shared through Redis between replicas

    async def forward(self, service: str, route: Endpoint, request: Request) -> Response:
        path = _concrete_path(route.path, request.path_params)
        cache_key = f"gw:{service}:{path}?{request.url.query}" if route.cache else None
        if cache_key is not None:
            cached = CachedAnswer.from_json(await self.cache.get(cache_key))
            if cached is not None and self.clock() - cached.stored_at < CACHE_TTL_SECONDS[route.cache or "default"]:
                self.metrics.cache.labels(service, "hit").inc()
                return _respond(cached, "hit", self.clock())
            self.metrics.cache.labels(service, "miss").inc()
        try:
            answer = await self._call(service, route, path, request)
        except ServiceCallError as exc:
            self.metrics.upstream.labels(service, exc.error_type).inc()
            stale = await self._stale(service, cache_key)
            if stale is not None:
                return stale
            raise ServiceUnavailableError(
                f"{service} is not answering ({exc.error_type.replace('_', ' ')})",
                details={"service": service, "error_type": exc.error_type},
            ) from exc
        self.metrics.upstream.labels(service, f"{answer.status_code // 100}xx").inc()
        if cache_key is not None:
            if answer.status_code >= 500:
                stale = await self._stale(service, cache_key)
                if stale is not None:
                    return stale
            elif answer.status_code < 300 and (entry := answer.to_json()) is not None:
                await self.cache.set(cache_key, entry, self.stale_seconds)
        return _respond(answer, "miss" if cache_key else None, self.clock())

    async def _call(self, service: str, route: Endpoint, path: str, request: Request) -> CachedAnswer:
        headers = {name: value for name in _FORWARDED_HEADERS if (value := request.headers.get(name)) is not None}
        principal = getattr(request.state, "principal", None)
        if isinstance(principal, Principal):  # the guard's verdict: who the service should record as the caller
            headers[CALLER_HEADER] = principal.identity
        if (traffic := forwarded_traffic_class(request)) is not None:
            headers[TRAFFIC_CLASS_HEADER] = traffic
        body: bytes | AsyncIterator[bytes] | None = None
        if route.method != "GET":
            length = request.headers.get("content-length", "")
            small = length.isdigit() and int(length) <= _BUFFERED_BODY_BYTES
            # A small body goes out in one write with its length; a large one (an upload) is streamed.
            body = await request.body() if small else request.stream()
        query = request.scope["query_string"]
        # The query string goes on as the caller wrote it (as a reverse proxy does), not decoded and re-encoded.
        target = f"{path}?{query.decode('latin-1')}" if query else path
        response = await self.client.client(service).forward(
            route.method, target, operation=route.operation, headers=headers, content=body
        )
        return CachedAnswer(
            status_code=response.status_code,
            body=response.content,
            media_type=response.headers.get("content-type", "application/json"),
            stored_at=self.clock(),
        )

    async def _stale(self, service: str, cache_key: str | None) -> Response | None:
        if cache_key is None:
            return None
        cached = CachedAnswer.from_json(await self.cache.get(cache_key))
        if cached is None:
            return None
        self.metrics.cache.labels(service, "stale").inc()
        return _respond(cached, "stale", self.clock())


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


Guard = Callable[[Request], Awaitable[object]]
"""The gateway's authorization check (security's `authorize`): raises to refuse, returns to let through."""


def add_proxy_routes(app: FastAPI, proxy: Callable[[Request], GatewayProxy], guard: Guard) -> None:
    """One route per SDK endpoint of every service: `/api/<service><path>`, same method; and the relay
    route in front of them that serves them all (see the module docstring).

    Added to the app's own router rather than through an included APIRouter: FastAPI matches included
    routers through an extra layer per request, which cost 14% of the gateway's CPU per forwarded call."""
    relay = RelayRoute(proxy, guard)
    for service, client_class in CLIENT_CLASSES.items():
        for route in endpoints(client_class):
            app.add_api_route(
                f"/api/{service}{route.path}",
                _handler(service, route, proxy),
                methods=[route.method],
                name=f"{service}.{route.name}",
                summary=f"{route.method} {route.path} on {service}",
                tags=[f"api: {service}"],
                response_class=Response,
                responses=_relayed(service),
                openapi_extra={"parameters": _path_parameters(route.path)},
            )
            documented = app.router.routes[-1]
            assert isinstance(documented, APIRoute)
            relay.add(service, route, documented)
    app.router.routes.insert(0, relay)


def _relayed(service: str) -> dict[int | str, dict[str, Any]]:
    """The answers a forwarded route documents: the service's own, relayed as it gave them (its OpenAPI document
    says which), and the gateway's 503 when the service does not answer."""
    relayed = f"{service}'s answer, relayed as it was given (see {service}'s own OpenAPI document)"
    return {"4XX": {"description": relayed}, "5XX": {"description": relayed}, **error_responses(503)}


def _path_parameters(path: str) -> list[dict[str, Any]]:
    """The path parameters of a forwarded route template, for its OpenAPI operation (the generic handler takes the
    request alone, so FastAPI does not find them itself)."""
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in _PATH_PARAMETER.findall(path)
    ]


def _handler(
    service: str, route: Endpoint, proxy: Callable[[Request], GatewayProxy]
) -> Callable[[Request], Awaitable[Response]]:
    async def forward(request: Request) -> Response:
        return await proxy(request).forward(service, route, request)

    forward.__doc__ = f"Forwarded to {service}: `{route.method} {route.path}` (SDK: `{route.name}`)."
    return forward


@dataclass(frozen=True, slots=True)
class _Target:
    service: str
    endpoint: Endpoint
    documented: APIRoute  # what the request is reported as: `scope["route"]` for metrics, tracing, policy


_TARGET_KEY = "mlsec.relay_target"


class RelayRoute(BaseRoute):
    """Serves the forwarded routes: matches `/api/<service>/...` among that service's routes only.

    Only a full match (path and method) is taken; anything else (a wrong method, an unknown path) falls
    through to the documented FastAPI routes, which answer 405 or 404 exactly as before. The matched
    documented route is put in `scope["route"]`, as the router does, so metrics, span names and the
    permission policy see the route template.
    """

    def __init__(self, proxy: Callable[[Request], GatewayProxy], guard: Guard):
        self.proxy = proxy
        self.guard = guard
        self.by_service: dict[str, list[_Target]] = {}

    def add(self, service: str, endpoint: Endpoint, documented: APIRoute) -> None:
        self.by_service.setdefault(service, []).append(_Target(service, endpoint, documented))

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path = get_route_path(scope)
        if not path.startswith("/api/"):
            return Match.NONE, {}
        service = path[5:].partition("/")[0]
        method = scope["method"]
        for target in self.by_service.get(service, ()):
            route = target.documented
            if route.methods is None or method not in route.methods:
                continue
            found = route.path_regex.match(path)
            if found is None:
                continue
            params = {name: route.param_convertors[name].convert(value) for name, value in found.groupdict().items()}
            return Match.FULL, {
                "route": route,
                "endpoint": route.endpoint,
                "path_params": {**scope.get("path_params", {}), **params},
                _TARGET_KEY: target,
            }
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        target: _Target = scope[_TARGET_KEY]
        request = Request(scope, receive)
        await self.guard(request)  # refusals raise; the app's exception handlers answer in the error envelope
        response = await self.proxy(request).forward(target.service, target.endpoint, request)
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)
