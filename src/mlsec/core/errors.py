"""One error base for the whole platform and the handlers that render the seed-001 envelope.

Every error body is `{"error": true, "status_code", "message", "path", "timestamp", "details",
"request_id"}`. Unknown exceptions become a generic 500 that carries the request id and never the
exception text: a privacy service must not echo its input back in an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from starlette._utils import get_route_path
from starlette.exceptions import HTTPException as StarletteHTTPException

from mlsec.core.logging import current_request_id


class MlsecError(Exception):
    """Base of every error a service raises on purpose; carries its HTTP status."""

    status_code: int = 500

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        details: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.details = details or {}
        self.headers = dict(headers or {})  # e.g. WWW-Authenticate on 401, Retry-After on 429


class UnauthorizedError(MlsecError):
    """No valid credential was presented (401); the client should authenticate."""

    status_code = 401

    def __init__(self, message: str = "authentication required", **kwargs: Any):
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class ForbiddenError(MlsecError):
    """The credential is valid but its role does not allow this (403)."""

    status_code = 403


class NotFoundError(MlsecError):
    status_code = 404


class ConflictError(MlsecError):
    status_code = 409


class PayloadTooLargeError(MlsecError):
    status_code = 413


class InvalidInputError(MlsecError):
    status_code = 422


class TooManyRequestsError(MlsecError):
    """A rate limit was exceeded (429); `Retry-After` says when to try again."""

    status_code = 429


class BadGatewayError(MlsecError):
    """What this service depends on answered with something unusable (502), e.g. a registered model whose
    files cannot be loaded."""

    status_code = 502


class ServiceUnavailableError(MlsecError):
    status_code = 503


class ErrorRead(BaseModel):
    """The seed-001 error envelope, as the OpenAPI documents declare it for every error answer."""

    error: Literal[True]
    status_code: int = Field(ge=400, le=599)
    message: str
    path: str
    timestamp: datetime = Field(description="When the error was answered (UTC, with its offset).")
    details: dict[str, Any]
    request_id: str | None


def error_body(*, status_code: int, message: str, path: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The seed-001 error envelope."""
    return {
        "error": True,
        "status_code": status_code,
        "message": message,
        "path": path,
        "timestamp": datetime.now(UTC).isoformat(),
        "details": details or {},
        "request_id": current_request_id(),
    }


def error_response(
    request: Request,
    status_code: int,
    message: str,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = error_body(status_code=status_code, message=message, path=request.url.path, details=details)
    return JSONResponse(body, status_code=status_code, headers=headers)


async def _handle_mlsec_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MlsecError)
    return error_response(request, exc.status_code, exc.message, exc.details, headers=exc.headers or None)


async def _handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"no route for {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} not allowed on {request.url.path}"
        return error_response(request, 405, message, headers={**(exc.headers or {}), "Allow": _allowed(request)})
    return error_response(request, exc.status_code, message, headers=exc.headers)


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed(request: Request) -> str:
    """Every method the request's path answers, across all the routes that share the path: the router's own
    405 names only the methods of the first route it found for the path."""
    path = get_route_path(request.scope)
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):  # routes of included routers too
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(path):
            methods |= route.methods
    order = {method: index for index, method in enumerate(_METHOD_ORDER)}
    return ", ".join(sorted(methods, key=lambda method: (order.get(method, len(order)), method)))


async def _handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # The offending input is left out on purpose: it may hold personal data or secrets.
    errors = [
        {
            "location": [str(part) for part in err.get("loc", ())],
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(e['location'])}: {e['message']}" for e in errors[:5])
    return error_response(request, 422, f"invalid request: {summary}", {"errors": errors})


def install_error_handlers(app: FastAPI) -> None:
    """Render every error of the app in the envelope (unexpected ones: see the middleware)."""
    app.add_exception_handler(MlsecError, _handle_mlsec_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
