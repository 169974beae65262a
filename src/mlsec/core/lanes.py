"""Lanes: requests served by the app's own middleware around one handler, without Starlette's router.

A lane claims requests (the gateway's relay claims `/api/<service>/...` for the routes it forwards) and
answers them itself. The requests it claims still run through every middleware of the app, the same pure-ASGI
parts in the same order (tracing, request id, access log and metrics, body limit, CORS when configured,
whatever is added later), built from the app's own middleware list; what they skip is what a handler that
routes nothing does not need: FastAPI's and Starlette's error middlewares, the router's scan, the request
and dependency machinery. A lane's refusals are answered by the app's own exception handlers, so the error
envelope, its headers and status are the ones every other route gives.

Everything a lane does not claim (another path, another method, a WebSocket, the lifespan) goes to the app
as before: a lane can make a request cheaper, never answer it differently.
"""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import FastAPI
from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send


class Lane(Protocol):
    """What a lane is: a matcher and the ASGI handler of what it matched."""

    def claims(self, scope: Scope) -> bool:
        """Whether the lane serves this HTTP request; it may add to `scope` what it found (as a router adds
        `route` and `path_params`), before any middleware sees the request."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...


class ServiceApp(FastAPI):
    """A FastAPI app that may serve some requests on lanes (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:  # FastAPI's own keyword arguments
        super().__init__(**kwargs)
        self.lanes: list[Lane] = []

    def add_lane(self, lane: Lane) -> None:
        """Serve what `lane` claims on it, ahead of the app's routes; before the app serves its first request."""
        if self.middleware_stack is not None:
            raise RuntimeError("cannot add a lane after the application has started")
        self.lanes.append(lane)

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        if not self.lanes:
            return app
        return LaneDispatcher(app, [(lane, wrap(lane, self.user_middleware)) for lane in self.lanes])


def wrap(app: ASGIApp, middleware: list[Middleware]) -> ASGIApp:
    """`app` inside `middleware`, the first outermost: as Starlette builds an app's stack."""
    for cls, args, kwargs in reversed(middleware):
        app = cls(app, *args, **kwargs)
    return app


class LaneDispatcher:
    """The outermost part of a `ServiceApp`: a request a lane claims goes down that lane's stack, anything else
    down the app's."""

    def __init__(self, app: ASGIApp, lanes: list[tuple[Lane, ASGIApp]]):
        self.app = app
        self.lanes = lanes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for lane, stack in self.lanes:
                if lane.claims(scope):
                    await stack(scope, receive, send)
                    return
        await self.app(scope, receive, send)


async def handled(exc: Exception, scope: Scope, receive: Receive) -> Response | None:
    """The answer the app's exception handlers give `exc`, found as Starlette's ExceptionMiddleware finds them
    (a status handler for an HTTPException, else the handler of the nearest class in the exception's MRO), or
    None when no handler takes it: the caller re-raises, and the request middleware answers the generic 500
    as it does on any route."""
    handlers = scope["app"].exception_handlers
    handler = handlers.get(exc.status_code) if isinstance(exc, HTTPException) else None
    for cls in type(exc).__mro__ if handler is None else ():
        if cls is Exception:  # the server error middleware's handler, not a route's: unhandled
            return None
        if (handler := handlers.get(cls)) is not None:
            break
    if handler is None:
        return None
    request = Request(scope, receive)
    if is_async_callable(handler):
        response: Response = await handler(request, exc)
    else:
        response = await run_in_threadpool(handler, request, exc)
    return response


async def read_body(receive: Receive) -> bytes:
    """A request's whole body from its ASGI `receive`, as Starlette's `Request.body()` reads it (ClientDisconnect
    when the caller leaves), for a lane that makes no request object."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()
