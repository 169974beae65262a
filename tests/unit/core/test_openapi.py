"""The OpenAPI document declares every error answer in the envelope, and 405 answers name every method of a path."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ValidationError

from mlsec.core.errors import ErrorRead, NotFoundError, install_error_handlers
from mlsec.core.limits import UtcDatetime
from mlsec.core.openapi import ENVELOPE_REF, declare_errors, error_responses, service_token_errors
from mlsec.core.strict import JsonBool, JsonFloat, JsonInt

pytestmark = pytest.mark.anyio


class Item(BaseModel):
    name: str


def _app(*rules: Any) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    declare_errors(app, *rules)
    router = APIRouter(prefix="/items")

    @router.get("/{item_id}", responses=error_responses(409))
    async def get_item(item_id: int) -> Item:
        raise NotFoundError(f"item {item_id} not found")

    @router.put("/{item_id}")
    async def put_item(item_id: int, item: Item) -> Item:
        return item

    app.include_router(router)

    @app.get("/health")
    async def get_health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _responses(app: FastAPI, method: str, path: str) -> dict[str, Any]:
    responses: dict[str, Any] = app.openapi()["paths"][path][method]["responses"]
    return responses


def test_errors_are_declared_by_the_shape_of_each_route() -> None:
    app = _app()
    put = _responses(app, "put", "/items/{item_id}")
    assert set(put) == {"200", "400", "404", "413", "422", "500"}
    assert put["422"]["content"]["application/json"]["schema"] == {"$ref": ENVELOPE_REF}
    assert set(_responses(app, "get", "/items/{item_id}")) == {"200", "404", "409", "422", "500"}
    assert set(_responses(app, "get", "/health")) == {"200", "500"}
    schemas = app.openapi()["components"]["schemas"]
    assert "ErrorRead" in schemas
    assert "HTTPValidationError" not in schemas  # FastAPI's own 422 body is not what we answer


def test_an_app_adds_its_own_rules_and_routes_added_later_are_covered() -> None:
    def guard(method: str, path: str, operation: dict[str, Any]) -> Iterable[int]:
        return (401, 403) if path.startswith("/items") else ()

    app = _app(service_token_errors, guard)

    @app.get("/later/{name}")
    async def get_later(name: str) -> dict[str, str]:
        return {"name": name}

    assert {"401", "403"} <= set(_responses(app, "put", "/items/{item_id}"))
    assert set(_responses(app, "get", "/later/{name}")) == {"200", "401", "404", "422", "500"}
    assert set(_responses(app, "get", "/health")) == {"200", "401", "500"}  # the service token guards it


async def test_405_and_options_name_every_method_of_the_path_across_routes() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for method in ("DELETE", "OPTIONS"):
            answer = await client.request(method, "/items/3")
            assert answer.status_code == 405
            assert answer.headers["allow"] == "GET, PUT"
            body = ErrorRead.model_validate(answer.json())
            assert body.status_code == 405 and body.timestamp.tzinfo is not None
        missing = await client.get("/items/3")
        assert missing.status_code == 404


@pytest.mark.parametrize(
    ("kind", "given", "expected"),
    [
        (JsonInt, 7.0, 7),
        (JsonInt, 7, 7),
        (JsonFloat, 2, 2.0),
        (JsonBool, False, False),
        (UtcDatetime, "2026-01-02T03:04:05", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ],
)
def test_json_types_take_their_json_type(kind: Any, given: Any, expected: Any) -> None:
    class Body(BaseModel):
        value: kind

    assert Body(value=given).value == expected


@pytest.mark.parametrize(
    ("kind", "given"),
    [
        (JsonInt, True),
        (JsonInt, "7"),
        (JsonInt, 7.5),
        (JsonFloat, False),
        (JsonFloat, "1.5"),
        (JsonBool, 0),
        (JsonBool, "true"),
        (UtcDatetime, 0),
        (UtcDatetime, 1.5e9),
    ],
)
def test_json_types_refuse_what_pydantic_would_coerce(kind: Any, given: Any) -> None:
    class Body(BaseModel):
        value: kind

    with pytest.raises(ValidationError):
        Body(value=given)
