"""Every error answer a route can give, declared in its OpenAPI document, in the error envelope.

Routes name the errors of their own domain once per router or route with `error_responses(404, 409)`; what
follows from the platform itself is added here to every operation of an app's document, so that no route
can forget it:

- 422 (invalid input, in the envelope: FastAPI's own `HTTPValidationError` is not what we answer) wherever
  there is a parameter or a body; 400 (unparsable) and 413 (over the limit) wherever there is a body; 404
  wherever there is a path parameter (what it names may not exist); 400 wherever the traffic-class header is
  read; 500 everywhere (the generic envelope, never a traceback);
- 401 on every route the internal service token guards, and whatever an app adds (`declare_errors`): the
  gateway's 401/403/429 from its permission table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from mlsec.core.errors import ErrorRead
from mlsec.core.service_token import OPEN_PROBES
from mlsec.core.traffic import TRAFFIC_CLASS_HEADER

REF_TEMPLATE = "#/components/schemas/{model}"
ENVELOPE_REF = REF_TEMPLATE.format(model=ErrorRead.__name__)
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")

ErrorRule = Callable[[str, str, dict[str, Any]], Iterable[int]]
"""`(METHOD, path template, OpenAPI operation)` -> the error statuses the platform adds to that operation."""


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """FastAPI `responses=` declaring these error statuses, each answered in the error envelope."""
    return {code: {"model": ErrorRead, "description": HTTPStatus(code).phrase} for code in status_codes}


def input_errors(method: str, path: str, operation: dict[str, Any]) -> Iterable[int]:
    """What any route gives by its shape alone: 422, 413, 404 and 500 (see the module docstring)."""
    parameters = operation.get("parameters", [])
    located = {(parameter.get("in"), parameter.get("name")) for parameter in parameters}
    if parameters or "requestBody" in operation:
        yield 422
    if "requestBody" in operation:
        yield from (400, 413)  # a body that cannot be parsed (FastAPI's 400), or one over the limit
    if any(where == "path" for where, _ in located):
        yield 404
    if ("header", TRAFFIC_CLASS_HEADER) in located:
        yield 400  # an unknown traffic class (mlsec.core.traffic)
    yield 500


def service_token_errors(method: str, path: str, operation: dict[str, Any]) -> Iterable[int]:
    """401 from the service-token guard (`ServiceTokenMiddleware`), on every route but the open probes."""
    return () if (method, path) in OPEN_PROBES else (401,)


def declare_errors(app: FastAPI, *rules: ErrorRule) -> None:
    """Add the statuses `rules` give to each operation of `app`'s OpenAPI document (besides `input_errors`).

    Applied when the document is built, so routes added after this call are covered too; routes keep what
    they declare themselves."""
    state: list[ErrorRule] | None = getattr(app.state, "openapi_error_rules", None)
    if state is None:
        state = app.state.openapi_error_rules = [input_errors]
        build = app.openapi

        def openapi() -> dict[str, Any]:
            if app.openapi_schema is None:
                _declare(build(), state)
            return build()

        app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the document
    state.extend(rules)


def _declare(document: dict[str, Any], rules: list[ErrorRule]) -> None:
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _HTTP_METHODS:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if _is_fastapi_validation(responses.get("422")):
                del responses["422"]
            codes = {code for rule in rules for code in rule(method.upper(), path, operation)}
            for code in sorted(codes):
                if str(code) not in responses:
                    responses[str(code)] = _envelope(code)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(ErrorRead.__name__, ErrorRead.model_json_schema(ref_template=REF_TEMPLATE))
    if not _references(document.get("paths", {}), "HTTPValidationError"):
        for name in _FASTAPI_VALIDATION:
            schemas.pop(name, None)


def _envelope(code: int) -> dict[str, Any]:
    return {
        "description": HTTPStatus(code).phrase,
        "content": {"application/json": {"schema": {"$ref": ENVELOPE_REF}}},
    }


def _is_fastapi_validation(response: Any) -> bool:
    return isinstance(response, dict) and _references(response, "HTTPValidationError")


def _references(value: Any, name: str) -> bool:
    if isinstance(value, dict):
        if value.get("$ref") == REF_TEMPLATE.format(model=name):
            return True
        return any(_references(item, name) for item in value.values())
    if isinstance(value, list):
        return any(_references(item, name) for item in value)
    return False
