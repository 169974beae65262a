"""What ingest writes besides the spans: a trace's summary merged across batches and services, the service map's
edges whichever of parent and child arrives first, and attributes redacted before anything is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mlsec.core.settings import Settings
from mlsec.services.tracing.app import create_app
from tests.api.tracing.conftest import ingest, new_span_id, new_trace_id, now_us, tracing_settings
from tests.conftest import started_client

pytestmark = pytest.mark.anyio
MS = 1000


async def _edges(client: httpx.AsyncClient) -> dict[tuple[str, str], dict[str, Any]]:
    answer = (await client.get("/service-map", params={"window_minutes": 60})).json()
    return {(edge["source"], edge["target"]): edge for edge in answer["edges"]}


async def test_a_trace_summary_is_merged_across_batches(tracing: httpx.AsyncClient) -> None:
    trace_id, root, child, late = new_trace_id(), new_span_id(), new_span_id(), new_span_id()
    start = now_us() - 5_000 * MS
    await ingest(
        tracing,
        [{"trace_id": trace_id, "span_id": child, "parent": root, "service": "model-cache", "start": start + 2 * MS}],
    )
    first = (await tracing.get(f"/traces/{trace_id}")).json()["trace"]
    assert first["root_service"] is None and first["span_count"] == 1
    await ingest(
        tracing,
        [
            {
                "trace_id": trace_id,
                "span_id": root,
                "service": "gateway",
                "name": "POST /predict",
                "start": start,
                "duration_ms": 10,
            },
            {
                "trace_id": trace_id,
                "span_id": late,
                "parent": root,
                "service": "audit",
                "start": start + 8 * MS,
                "duration_ms": 7,
                "status": "error",
            },
        ],
    )
    trace = (await tracing.get(f"/traces/{trace_id}")).json()["trace"]
    assert trace["span_count"] == 3 and trace["error_count"] == 1
    assert trace["root_service"] == "gateway" and trace["root_operation"] == "POST /predict"
    assert trace["services"] == ["audit", "gateway", "model-cache"]
    assert trace["duration_ms"] == pytest.approx(15.0)  # from the root's start to the late span's end


@pytest.mark.parametrize("order", ["parent first", "child first", "one batch"])
async def test_an_edge_is_counted_once_whichever_span_arrives_first(tracing: httpx.AsyncClient, order: str) -> None:
    edges_before = await _edges(tracing)
    assert ("gateway", "model-api") not in edges_before
    start = now_us() - 1_000 * MS
    batches: list[list[dict[str, Any]]] = [[], []]
    for index in range(3):
        trace_id, parent = new_trace_id(), new_span_id()
        parent_span = {"trace_id": trace_id, "span_id": parent, "service": "gateway", "start": start}
        child = {
            "trace_id": trace_id,
            "span_id": new_span_id(),
            "parent": parent,
            "service": "model-api",
            "start": start + MS,
            "duration_ms": 4.0 * (index + 1),
            "status": "error" if index == 0 else "ok",
        }
        same_service = {"trace_id": trace_id, "span_id": new_span_id(), "parent": child["span_id"]}
        same_service["service"] = "model-api"  # a call inside one service is no edge
        if order == "parent first":
            batches[0].append(parent_span)
            batches[1] += [child, same_service]
        elif order == "child first":
            batches[0] += [child, same_service]
            batches[1].append(parent_span)
        else:
            batches[0] += [parent_span, child, same_service]
    for batch in batches:
        if batch:
            await ingest(tracing, batch)
    edges = await _edges(tracing)
    assert list(edges) == [("gateway", "model-api")]
    edge = edges[("gateway", "model-api")]
    assert edge["calls"] == 3 and edge["errors"] == 1
    assert edge["avg_ms"] == pytest.approx(8.0) and edge["max_ms"] == pytest.approx(12.0)


@pytest.fixture
async def strict(backend_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A receiver keeping at most 5 attributes of at most 32 characters."""
    app = create_app(backend_settings, tracing_settings(max_attributes=5, max_attribute_value_length=32))
    async for client in started_client(app):
        yield client


async def test_attributes_that_can_carry_a_person_or_a_secret_are_never_stored(tracing: httpx.AsyncClient) -> None:
    trace_id, span_id = new_trace_id(), new_span_id()
    sent = {
        "http.route": "/predict",
        "url.full": "https://ann:pw@api.example.com:8443/predict?email=ann@example.com#top",
        "url.query": "email=ann@example.com",
        "client.address": "203.0.113.7",
        "user_agent.original": "Mozilla/5.0",
        "enduser.id": "ann",
        "user.email": "ann@example.com",
        "http.request.header.authorization": "Bearer secret",
        "http.request.body.size": 120,
        "db.statement": "SELECT * FROM users WHERE email = 'ann@example.com'",
        "db.password": "hunter2",
        "my_app.api_key": "k-123",
        "exception.message": "no user ann@example.com",
        "mlsec.model.name": "toxicity",
    }
    await ingest(
        tracing,
        [
            {
                "trace_id": trace_id,
                "span_id": span_id,
                "attributes": sent,
                "resource": {"process.command_line": "serve --token abc", "host.name": "node-1"},
                "events": [
                    {"name": "exception", "attributes": {"exception.type": "KeyError", "exception.message": "ann"}}
                ],
            }
        ],
    )
    span = (await tracing.get(f"/traces/{trace_id}/spans/{span_id}")).json()
    assert span["attributes"] == {
        "http.route": "/predict",
        "url.full": "https://api.example.com:8443/predict",
        "mlsec.model.name": "toxicity",
    }
    assert span["resource"] == {"service.name": "svc", "host.name": "node-1"}
    assert span["events"][0]["attributes"] == {"exception.type": "KeyError"}
    searched = (await tracing.get("/traces", params={"tag": "client.address=203.0.113.7"})).json()
    assert searched["count"] == 0


async def test_values_are_truncated_and_attributes_capped(strict: httpx.AsyncClient) -> None:
    trace_id, span_id = new_trace_id(), new_span_id()
    attributes = {f"key.{index}": f"value {index}" for index in range(8)} | {"key.long": "x" * 100}
    await ingest(
        strict, [{"trace_id": trace_id, "span_id": span_id, "attributes": {"key.long": "x" * 100, **attributes}}]
    )
    kept = (await strict.get(f"/traces/{trace_id}/spans/{span_id}")).json()["attributes"]
    assert len(kept) == 5
    assert kept["key.long"] == "x" * 32
