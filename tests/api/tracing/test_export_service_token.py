"""A service's span export reaches the platform's tracing service when the platform runs with its service token
(as `mlsec up` does): the exporter sends the token, as every call between services does, so the receiver takes
the spans instead of answering 401; an OTLP collector of the user's (`OTEL_EXPORTER_OTLP_ENDPOINT`) never gets it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from mlsec.core.service_token import SERVICE_TOKEN_HEADER
from mlsec.core.settings import Settings
from mlsec.core.trace_export import create_export_processor
from mlsec.services.tracing.app import create_app
from tests.api.tracing.conftest import tracing_settings
from tests.servers import ThreadedServer

TOKEN = "export-test-service-token-0123456789abcdef"


@pytest.fixture
def platform(backend_settings: Settings) -> Settings:
    return backend_settings.model_copy(update={"service_token": SecretStr(TOKEN), "trace_export": True})


@pytest.fixture
def tracing_server(platform: Settings) -> Iterator[ThreadedServer]:
    server = ThreadedServer(create_app(platform, tracing_settings())).start()
    try:
        yield server
    finally:
        server.stop()


def test_spans_reach_a_tracing_service_that_requires_the_service_token(
    platform: Settings, tracing_server: ThreadedServer
) -> None:
    processor = create_export_processor(platform.model_copy(update={"tracing_url": tracing_server.url}), None)
    assert processor is not None
    provider = TracerProvider()
    provider.add_span_processor(processor)
    with provider.get_tracer("test").start_as_current_span("exported.with.token"):
        pass
    provider.force_flush()
    headers = {SERVICE_TOKEN_HEADER: TOKEN}
    deadline = time.monotonic() + 15
    while True:
        listed = httpx.get(f"{tracing_server.url}/traces", params={"operation": "exported.with.token"}, headers=headers)
        assert listed.status_code == 200, listed.text
        if listed.json()["count"] == 1:
            break
        assert time.monotonic() < deadline, "the exported span never reached the tracing service"
        time.sleep(0.1)
    assert processor.metrics.exported._value.get() == 1
    processor.shutdown()
    assert httpx.post(f"{tracing_server.url}/v1/traces", content=b"").status_code == 401  # the token is required


def _collector(seen: list[dict[str, str]]) -> FastAPI:
    """A user's OTLP collector: takes any batch and keeps the headers it came with."""
    app = FastAPI()

    @app.post("/v1/traces")
    async def receive(request: Request) -> Response:
        seen.append({name.lower(): value for name, value in request.headers.items()})
        return Response(b"", media_type="application/x-protobuf")

    return app


def test_a_collector_of_the_users_gets_no_service_token(platform: Settings) -> None:
    seen: list[dict[str, str]] = []
    server = ThreadedServer(_collector(seen)).start()
    try:
        collector = platform.model_copy(update={"otel_exporter_otlp_endpoint": server.url})
        processor = create_export_processor(collector, CollectorRegistry())
        assert processor is not None
        provider = TracerProvider()
        provider.add_span_processor(processor)
        with provider.get_tracer("test").start_as_current_span("to.the.collector"):
            pass
        provider.force_flush()
        processor.shutdown()
    finally:
        server.stop()
    assert seen, "the collector got nothing"
    assert all(SERVICE_TOKEN_HEADER.lower() not in headers for headers in seen)
