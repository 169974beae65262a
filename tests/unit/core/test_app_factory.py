"""What the app factory gives every service: the envelope, safe 500s, JSON logs with request ids."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Query
from pydantic import BaseModel

from mlsec.core.app import create_service_app
from mlsec.core.errors import ConflictError, NotFoundError
from mlsec.core.logging import JsonFormatter, configure_logging, reset_request_id, set_request_id
from mlsec.core.services import get_spec
from mlsec.core.settings import Settings
from tests.conftest import started_client

pytestmark = pytest.mark.anyio
router = APIRouter()


class Item(BaseModel):
    name: str
    count: int


@router.post("/items")
async def create_item(item: Item, limit: Annotated[int, Query(ge=1, le=10)] = 5) -> Item:
    if item.name == "taken":
        raise ConflictError("item 'taken' exists", details={"name": item.name})
    return item


@router.get("/items/{item_id}")
async def get_item(item_id: int) -> Item:
    raise NotFoundError(f"item {item_id} not found")


@router.get("/explode")
async def explode(email: str) -> None:
    raise RuntimeError(f"could not process {email}")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(get_spec("tracing"), settings, routers=[router])
    async for http in started_client(app):
        yield http


async def test_domain_errors_keep_their_status_and_details(client: httpx.AsyncClient) -> None:
    conflict = await client.post("/items", json={"name": "taken", "count": 1})
    assert conflict.status_code == 409
    assert conflict.json()["details"] == {"name": "taken"}
    missing = await client.get("/items/7")
    assert (missing.status_code, missing.json()["message"]) == (404, "item 7 not found")


async def test_validation_errors_name_the_field_but_never_echo_the_input(client: httpx.AsyncClient) -> None:
    response = await client.post("/items?limit=99", json={"name": "x", "count": "my-ssn-123-45-6789"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] is True and body["path"] == "/items"
    locations = [e["location"] for e in body["details"]["errors"]]
    assert ["body", "count"] in locations and ["query", "limit"] in locations
    assert "123-45-6789" not in response.text


async def test_unexpected_errors_are_a_generic_500_with_the_request_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/explode", params={"email": "alice@example.com"}, headers={"x-request-id": "req-500"})
    assert response.status_code == 500
    body = response.json()
    assert body["message"] == "internal server error"
    assert body["request_id"] == "req-500" == response.headers["x-request-id"]
    assert "alice@example.com" not in response.text
    assert "Traceback" not in response.text
    logged = [r for r in caplog.records if r.getMessage() == "http.unhandled_error"]
    assert logged and "alice@example.com" not in str(logged[0].__dict__)


@pytest.mark.parametrize(("method", "path"), [("GET", "/items/7/"), ("POST", "/items/"), ("GET", "/health/live/")])
async def test_a_trailing_slash_is_a_404_never_a_redirect_to_the_host_header(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, json={"name": "x", "count": 1}, headers={"Host": "evil.example"})
    assert response.status_code == 404
    assert "location" not in response.headers
    assert response.json()["message"] == f"no route for {method} {path}"


def test_json_logs_carry_the_request_id_and_extra_fields() -> None:
    formatter = JsonFormatter("model-api")
    record = logging.LogRecord("mlsec.x", logging.INFO, __file__, 1, "model.loaded", (), None)
    record.model = "security-classifier"
    token = set_request_id("req-9")
    try:
        entry = json.loads(formatter.format(record))
    finally:
        reset_request_id(token)
    assert entry["service"] == "model-api"
    assert entry["event"] == "model.loaded"
    assert entry["request_id"] == "req-9"
    assert entry["model"] == "security-classifier"
    assert entry["level"] == "INFO"


def test_configure_logging_writes_one_json_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("gateway", "INFO")
        logging.getLogger("uvicorn.error").info("Uvicorn running")
        logging.getLogger("mlsec.test").debug("hidden at INFO")
        lines = capsys.readouterr().out.strip().splitlines()
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    assert len(lines) == 1
    assert json.loads(lines[0])["event"] == "Uvicorn running"
