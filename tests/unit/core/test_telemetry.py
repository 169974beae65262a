"""Request spans: one per request, named after the route template (never the raw URL), health excluded."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mlsec.core.metrics import ServiceMetrics
from mlsec.core.middleware import RequestContextMiddleware
from mlsec.core.settings import Settings
from mlsec.core.telemetry import setup_telemetry

pytestmark = pytest.mark.anyio


def _traced_app() -> tuple[FastAPI, InMemorySpanExporter]:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(RequestContextMiddleware, metrics=ServiceMetrics("test"))
    provider = setup_telemetry(app, Settings(otel_exporter_otlp_endpoint=None), "test")
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return app, exporter


async def test_a_request_span_is_named_after_its_route_template() -> None:
    app, exporter = _traced_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
        assert (await client.get("/items/42")).status_code == 200
        assert (await client.get("/items/7")).status_code == 200
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/nowhere")).status_code == 404
    names = [span.name for span in exporter.get_finished_spans()]
    assert names == ["GET /items/{item_id}", "GET /items/{item_id}", "GET"]  # health excluded; no route: method only
    first = exporter.get_finished_spans()[0]
    assert first.attributes is not None
    assert first.attributes["http.route"] == "/items/{item_id}"
