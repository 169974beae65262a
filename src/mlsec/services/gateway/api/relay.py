"""`/api/<service>/...`: every endpoint the SDK declares, as a gateway route forwarded to its service.

The routes are generated from the SDK's `@endpoint` declarations, so the gateway covers exactly what the
SDK covers (and the coverage test holds both to the services' OpenAPI); what a forward does (cache, stale
answers, headers) is `service/proxy.py`.

Every forwarded route is declared twice over, on purpose: as a FastAPI route (OpenAPI, the docs, the
permission matrix) and, ahead of all of them, in one `RelayRoute` that serves those same routes on a
short path: a dictionary lookup by service instead of a scan of every route, and the gateway's guard
(`admit`) called directly instead of through FastAPI's dependency machinery. The relay is also the app's
lane (`mlsec.core.lanes`): what it claims runs through the app's own middleware (request id, metrics,
tracing, body limit) and nothing of Starlette's router and error middlewares, its refusals answered by the
app's own exception handlers (the error envelope). Every path runs the same guard and the same
`GatewayProxy.forward`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from mlsec.client import CLIENT_CLASSES, Endpoint, endpoints
from mlsec.core.auth import Principal
from mlsec.core.lanes import ServiceApp, handled
from mlsec.core.openapi import error_responses
from mlsec.services.gateway.service.proxy import GatewayProxy

_PATH_PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")  # `{name}` or `{name:convertor}`


Guard = Callable[[Scope], Awaitable[Principal | None]]
"""The gateway's authorization check on the ASGI scope (security's `admit`): raises to refuse, returns the caller
to let through."""


def add_proxy_routes(app: FastAPI, guard: Guard) -> None:
    """One route per SDK endpoint of every service: `/api/<service><path>`, same method; and the relay
    route in front of them that serves them all, also the app's lane (see the module docstring).

    Added to the app's own router rather than through an included APIRouter: FastAPI matches included
    routers through an extra layer per request, which cost 14% of the gateway's CPU per forwarded call."""
    relay_route = RelayRoute(guard)
    for service, client_class in CLIENT_CLASSES.items():
        for route in endpoints(client_class):
            app.add_api_route(
                f"/api/{service}{route.path}",
                _handler(service, route),
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
            relay_route.add(service, route, documented)
    app.router.routes.insert(0, relay_route)
    if isinstance(app, ServiceApp):
        app.add_lane(RelayLane(relay_route))


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


def _handler(service: str, route: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    async def forward(request: Request) -> Response:
        principal = getattr(request.state, "principal", None)  # the app-wide `authorize` dependency's verdict
        caller = principal if isinstance(principal, Principal) else None
        return await _proxy(request.scope).forward(service, route, request.scope, request.receive, caller)

    forward.__doc__ = f"Forwarded to {service}: `{route.method} {route.path}` (SDK: `{route.name}`)."
    return forward


def _proxy(scope: Scope) -> GatewayProxy:
    proxy: GatewayProxy = scope["app"].state.proxy  # built in the lifespan
    return proxy


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

    def __init__(self, guard: Guard):
        self.guard = guard
        self.by_service: dict[tuple[str, str], list[_Target]] = {}  # (service, method): in declaration order

    def add(self, service: str, endpoint: Endpoint, documented: APIRoute) -> None:
        for method in documented.methods or ():
            self.by_service.setdefault((service, method), []).append(_Target(service, endpoint, documented))

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path = get_route_path(scope)
        if not path.startswith("/api/"):
            return Match.NONE, {}
        service = path[5:].partition("/")[0]
        for target in self.by_service.get((service, scope["method"]), ()):
            route = target.documented
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
        try:
            principal = await self.guard(scope)
            response = await _proxy(scope).forward(target.service, target.endpoint, scope, receive, principal)
        except Exception as exc:
            # Refusals and a service that does not answer, in the app's own envelope (its exception handlers),
            # here rather than in Starlette's error middleware, which the lane does not pass.
            answer = await handled(exc, scope, receive)
            if answer is None:
                raise
            response = answer
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)


class RelayLane:
    """The relay as the app's lane (`mlsec.core.lanes`): it claims what the relay route matches, and serves it
    as the route does, inside the app's middleware but past its router."""

    def __init__(self, route: RelayRoute):
        self.route = route

    def claims(self, scope: Scope) -> bool:
        match, child = self.route.matches(scope)
        if match is not Match.FULL:
            return False
        scope.update(child)  # `route`, `path_params`: what the router would have put there
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.route.handle(scope, receive, send)
