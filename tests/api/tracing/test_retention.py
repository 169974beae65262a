"""Retention: traces older than the age limit go whole (spans, tags, summary), then the oldest traces while too
many spans are stored, and the service map's minutes past the age limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mlsec.core.settings import Settings
from mlsec.services.tracing.app import create_app
from tests.api.tracing.conftest import ingest, new_span_id, new_trace_id, now_us, tracing_settings
from tests.conftest import started_client

pytestmark = pytest.mark.anyio
HOUR_US = 3_600_000_000


def _trace(start_us: int, spans: int = 3) -> tuple[str, list[dict[str, Any]]]:
    """A trace of `spans` spans from two services (so it has an edge), tagged for search."""
    trace_id, root = new_trace_id(), new_span_id()
    built = [{"trace_id": trace_id, "span_id": root, "service": "gateway", "start": start_us}]
    built += [
        {
            "trace_id": trace_id,
            "span_id": new_span_id(),
            "parent": root,
            "service": "model-api",
            "start": start_us + index,
            "attributes": {"mlsec.model.name": "retained"},
        }
        for index in range(spans - 1)
    ]
    return trace_id, built


async def _started(settings: Settings, **overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings, tracing_settings(**overrides))
    async for client in started_client(app):
        yield app, client


@pytest.fixture
async def by_age(backend_settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async for started in _started(backend_settings, retention_hours=24):
        yield started


@pytest.fixture
async def by_size(backend_settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async for started in _started(backend_settings, max_spans=7):
        yield started


async def _exists(client: httpx.AsyncClient, trace_id: str) -> bool:
    return (await client.get(f"/traces/{trace_id}")).status_code == 200


async def test_traces_older_than_the_age_limit_are_deleted(by_age: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, client = by_age
    old_id, old = _trace(now_us() - 48 * HOUR_US)
    new_id, new = _trace(now_us() - HOUR_US)
    await ingest(client, old + new)
    window = {"window_minutes": 10080}
    assert len((await client.get("/service-map", params=window)).json()["edges"]) == 1
    await app.state.tracing.retention.run_once()
    assert not await _exists(client, old_id)
    assert await _exists(client, new_id)
    assert (await client.get(f"/traces/{old_id}/spans")).status_code == 404
    tagged = await client.get("/traces", params={"tag": "mlsec.model.name=retained", "start": "1970-01-02T00:00:00Z"})
    assert [trace["trace_id"] for trace in tagged.json()["traces"]] == [new_id]
    edge = (await client.get("/service-map", params=window)).json()["edges"]
    assert [item["calls"] for item in edge] == [2]  # the old minute is gone, the new one kept


async def test_the_oldest_traces_go_when_too_many_spans_are_stored(by_size: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, client = by_size
    built = [_trace(now_us() - (10 - index) * 60_000_000) for index in range(4)]  # 12 spans, oldest first
    for _, spans in built:
        await ingest(client, spans)
    await app.state.tracing.retention.run_once()
    kept = [await _exists(client, trace_id) for trace_id, _ in built]
    assert kept == [False, False, True, True]  # 12 - 7 = 5 too many: the two oldest (6 spans) go
    overview = (await client.get("/")).json()
    assert overview["spans"] == 6
