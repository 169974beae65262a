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
from mlsec.core.telemetry import FASTAPI_TELEMETRY_OFF, setup_telemetry

pytestmark = pytest.mark.anyio


def _traced_app() -> tuple[FastAPI, InMemorySpanExporter]:
    app = FastAPI(telemetry=FASTAPI_TELEMETRY_OFF)

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


def _span_app() -> tuple[FastAPI, InMemorySpanExporter]:
    app, exporter = _traced_app()

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("card 4111 1111 1111 1111 of jane@example.com")

    return app, exporter


async def test_a_request_continues_the_callers_trace() -> None:
    app, exporter = _traced_app()
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
        response = await client.get("/items/1", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
        assert response.status_code == 200
        assert (await client.get("/items/2")).status_code == 200
    joined, fresh = exporter.get_finished_spans()
    assert format(joined.context.trace_id, "032x") == trace_id
    assert joined.parent is not None and format(joined.parent.span_id, "016x") == parent_id
    assert fresh.parent is None and fresh.context.trace_id != joined.context.trace_id


async def test_a_server_error_marks_the_span_failed_without_the_exception_text() -> None:
    app, exporter = _span_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
        assert (await client.get("/boom?email=jane@example.com")).status_code == 500
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code.name == "ERROR"
    assert span.attributes is not None
    assert span.attributes["error.type"] == "500"
    assert span.attributes["http.response.status_code"] == 500
    recorded = repr(dict(span.attributes)) + repr(span.events) + str(span.status.description)
    assert "jane@example.com" not in recorded and "4111" not in recorded  # neither the query nor the exception


async def test_an_exception_that_escapes_is_recorded_by_type_only() -> None:
    app = FastAPI(telemetry=FASTAPI_TELEMETRY_OFF)

    async def failing(scope: object, receive: object, send: object) -> None:
        raise RuntimeError("jane@example.com")

    provider = setup_telemetry(app, Settings(otel_exporter_otlp_endpoint=None), "test")
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app.mount("/raw", failing)
    with pytest.raises(RuntimeError):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
            await client.get("/raw/x")
    (span,) = exporter.get_finished_spans()
    assert span.attributes is not None and span.attributes["error.type"] == "RuntimeError"
    assert "jane" not in repr(dict(span.attributes)) + repr(span.events)
