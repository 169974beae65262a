"""Pure-ASGI middleware: request id, access log and request metrics in one pass.

Pure ASGI (not BaseHTTPMiddleware) so it adds no task per request and leaves streaming and
WebSockets alone, and so the same parts serve a lane's requests too (`mlsec.core.lanes`: the gateway's
relay), which never reach the app's router.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlsec.core.errors import PayloadTooLargeError, error_body
from mlsec.core.logging import reset_request_id, set_request_id
from mlsec.core.metrics import ServiceMetrics
from mlsec.core.telemetry import PROBE_PATHS, name_span_after_route, route_template

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_RAW = REQUEST_ID_HEADER.encode()
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_UNMATCHED_ROUTE = "<unmatched>"
logger = logging.getLogger("mlsec.http")


def _incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
    return _new_request_id()


def _new_request_id() -> str:
    """`uuid.uuid4().hex`, the same 32 characters (random bits, version 4, RFC 4122 variant), at a quarter of
    the cost: without the UUID object and its integer arithmetic."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return raw.hex()


def _route_template(scope: Scope) -> str:
    """The matched route's path template, so metrics never get one label per URL."""
    template = route_template(scope)
    return _UNMATCHED_ROUTE if template is None else template


class RequestContextMiddleware:
    """Give every request an id (kept from `X-Request-ID` when valid), log and measure it."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope)
        token = set_request_id(request_id)
        try:
            if scope["type"] == "websocket":
                await self.app(scope, receive, send)
            else:
                await self._serve_http(scope, receive, send, request_id)
        finally:
            reset_request_id(token)

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        status = 500
        response_started = False
        header = (_REQUEST_ID_RAW, request_id.encode())
        matched_before = scope.get("route")  # by a lane: the tracing middleware named the span already

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", ()), header]
                route = scope.get("route")
                if route is not matched_before and (template := route_template(scope)) is not None:
                    # Here, while the request span is open and current (the tracing middleware holds it).
                    name_span_after_route(scope["method"], template)
            await send(message)

        started = time.perf_counter()
        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # The stack is logged, never the exception text: it may quote personal data.
            logger.error(
                "http.unhandled_error",
                extra={"error_type": type(exc).__name__, "stack": "".join(traceback.format_tb(exc.__traceback__))},
            )
            if response_started:
                raise
            await _send_internal_error(send_with_id, scope["path"])
        finally:
            self.metrics.in_progress.dec()
            seconds = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.observe(method=scope["method"], route=route, status=status, seconds=seconds)
            level = logging.DEBUG if route.startswith(PROBE_PATHS) else logging.INFO
            if logger.isEnabledFor(level):  # the record's fields are not even gathered when nobody reads them
                extra = {
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                }
                logger.log(level, "http.request", extra=extra)


async def _send_internal_error(send: Send, path: str) -> None:
    """A generic 500 in the error envelope: request id, no exception text."""
    await _send_error(send, path, 500, "internal server error", {"error_type": "internal"})


async def _send_error(send: Send, path: str, status: int, message: str, details: dict[str, object]) -> None:
    """An error envelope sent straight from middleware, where no exception handler runs."""
    body = json.dumps(error_body(status_code=status, message=message, path=path, details=details)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """The most bytes a request body may have, and the setting a user changes to allow more."""

    max_bytes: int
    setting: str


class BodySizeLimitMiddleware:
    """Refuse request bodies over a limit (per path, else the default) with 413, before reading them.

    A declared Content-Length over the limit is refused at once; a body without one (`Transfer-Encoding:
    chunked`) is counted as it arrives and stopped when it passes the limit, with the same 413. The read
    that passes the limit fails, and whatever the app makes of that failure (FastAPI answers 400 "error
    parsing the body", a proxy route an upstream error) is replaced by the 413, unless it already started
    answering.
    """

    def __init__(self, app: ASGIApp, *, default: BodyLimit, per_path: Mapping[str, BodyLimit]):
        self.app = app
        self.default = default
        self.per_path = dict(per_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.default)
        declared = _content_length(scope)
        if declared is None:
            await self._counted(scope, receive, send, limit)
        elif declared > limit.max_bytes:
            await _send_error(send, scope["path"], 413, _too_large(limit), {"limit_bytes": limit.max_bytes})
        else:
            await self.app(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: BodyLimit) -> None:
        received = 0
        exceeded = started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    exceeded = True
                    raise PayloadTooLargeError(_too_large(limit), details={"limit_bytes": limit.max_bytes})
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the app's answer to the failed read: the 413 below goes out instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await _send_error(send, scope["path"], 413, _too_large(limit), {"limit_bytes": limit.max_bytes})


def _too_large(limit: BodyLimit) -> str:
    return f"request body exceeds the limit of {limit.max_bytes} bytes (setting {limit.setting})"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
