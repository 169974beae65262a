"""`GET /traces/{trace_id}/export`: a trace as OTLP JSON, with hex ids, that a receiver takes back unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from mlsec.core.settings import Settings
from mlsec.services.tracing.app import create_app
from tests.api.tracing.conftest import JSON, ingest, new_span_id, new_trace_id, tracing_settings
from tests.conftest import started_client

pytestmark = pytest.mark.anyio


@pytest.fixture
async def other(backend_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second tracing service with a database of its own."""
    settings = backend_settings.model_copy(
        update={
            "home": backend_settings.home.parent / "other",
            "database_prefix": f"{backend_settings.database_prefix}o",
        }
    )
    async for client in started_client(create_app(settings, tracing_settings())):
        yield client


async def test_an_exported_trace_is_received_back_unchanged(
    tracing: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    trace_id, root, child = new_trace_id(), new_span_id(), new_span_id()
    await ingest(
        tracing,
        [
            {
                "trace_id": trace_id,
                "span_id": root,
                "service": "gateway",
                "name": "POST /predict",
                "kind": "server",
                "duration_ms": 9,
                "attributes": {"http.route": "/predict", "http.response.status_code": 200, "cached": True},
                "resource": {"service.version": "1.2.0"},
            },
            {
                "trace_id": trace_id,
                "span_id": child,
                "parent": root,
                "service": "model-api",
                "name": "mlsec.predict",
                "status": "error",
                "status_message": "timeout",
                "attributes": {"mlsec.batch_size": 3, "score": 0.5, "labels": ["a", "b"]},
                "events": [{"name": "retry", "offset_ms": 2, "attributes": {"attempt": 1}}],
            },
        ],
    )
    exported = await tracing.get(f"/traces/{trace_id}/export")
    assert exported.status_code == 200
    document = exported.json()
    spans = [span for rs in document["resourceSpans"] for ss in rs["scopeSpans"] for span in ss["spans"]]
    assert {span["traceId"] for span in spans} == {trace_id}  # hex, as OTLP JSON writes ids
    assert {span.get("parentSpanId") for span in spans} == {None, root}
    received = await other.post("/v1/traces", json=document, headers={"content-type": JSON})
    assert received.status_code == 200 and received.json() == {}
    original = (await tracing.get(f"/traces/{trace_id}/spans")).json()
    assert (await other.get(f"/traces/{trace_id}/spans")).json() == original
    assert (await other.get(f"/traces/{trace_id}/export")).json() == document


async def test_an_unknown_trace_is_a_404_and_a_bad_id_a_422(tracing: httpx.AsyncClient) -> None:
    assert (await tracing.get(f"/traces/{new_trace_id()}/export")).status_code == 404
    assert (await tracing.get("/traces/xyz/export")).status_code == 422
