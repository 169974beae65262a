"""The request body limit: a body over it is a 413 in the envelope, whether its size is declared or not."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Request
from pydantic import BaseModel

from mlsec.core.app import create_service_app
from mlsec.core.services import get_spec
from mlsec.core.settings import Settings
from tests.conftest import make_settings, started_client

pytestmark = pytest.mark.anyio
LIMIT = 4096
router = APIRouter()


class Note(BaseModel):
    text: str


@router.post("/notes")
async def create_note(note: Note) -> Note:
    return note


@router.post("/raw")
async def count_raw(request: Request) -> dict[str, int]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return {"bytes": size}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings: Settings = make_settings(tmp_path / "home", max_request_bytes=LIMIT)
    async for http in started_client(create_service_app(get_spec("tracing"), settings, routers=[router])):
        yield http


def _note(chars: int) -> bytes:
    return json.dumps({"text": "x" * chars}).encode()


async def _chunked(body: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _assert_413(response: httpx.Response, path: str) -> None:
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["error"] is True and body["path"] == path
    assert body["message"] == f"request body exceeds the limit of {LIMIT} bytes (setting MLSEC_MAX_REQUEST_BYTES)"
    assert body["details"] == {"limit_bytes": LIMIT}
    assert body["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("path", ["/notes", "/raw"])
async def test_a_chunked_body_over_the_limit_is_413_like_a_sized_one(client: httpx.AsyncClient, path: str) -> None:
    body = _note(2 * LIMIT)
    sized = await client.post(path, content=body, headers={"content-type": "application/json"})
    assert "content-length" in sized.request.headers
    _assert_413(sized, path)

    chunked = await client.post(path, content=_chunked(body), headers={"content-type": "application/json"})
    assert chunked.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in chunked.request.headers
    _assert_413(chunked, path)


async def test_a_chunked_body_within_the_limit_is_read(client: httpx.AsyncClient) -> None:
    body = _note(LIMIT - 100)
    note = await client.post("/notes", content=_chunked(body), headers={"content-type": "application/json"})
    assert note.status_code == 200 and note.json() == {"text": "x" * (LIMIT - 100)}
    raw = await client.post("/raw", content=_chunked(body))
    assert raw.json() == {"bytes": len(body)}


async def test_the_413_is_counted_as_413(client: httpx.AsyncClient) -> None:
    await client.post("/notes", content=_chunked(_note(2 * LIMIT)), headers={"content-type": "application/json"})
    metrics = (await client.get("/metrics")).text
    assert 'mlsec_http_requests_total{method="POST",route="/notes",status="413"} 1.0' in metrics
