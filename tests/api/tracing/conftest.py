"""The tracing service in process on a real database (SQLite, and PostgreSQL with Redis when available), and
`ingest`, which sends spans described as plain dicts to its OTLP receiver the way an exporter does (protobuf,
or OTLP JSON, gzip or not)."""

from __future__ import annotations

import base64
import gzip as gzip_module
import json
import os
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, Status

from mlsec.core.settings import Settings
from mlsec.services.tracing.app import create_app
from mlsec.services.tracing.settings import TracingSettings
from tests.conftest import started_client

KINDS = {"unspecified": 0, "internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
STATUSES = {"unset": 0, "ok": 1, "error": 2}
PROTOBUF = "application/x-protobuf"
JSON = "application/json"


def tracing_settings(**overrides: Any) -> TracingSettings:
    """The service's settings for a test: retention waits an hour unless a test asks for it."""
    values: dict[str, Any] = {"retention_interval_s": 3600.0}
    values.update(overrides)
    return TracingSettings.model_validate(values)


@pytest.fixture
async def tracing(backend_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the running tracing app (its database migrated, its writer started)."""
    async for client in started_client(create_app(backend_settings, tracing_settings())):
        yield client


def new_trace_id() -> str:
    return os.urandom(16).hex()


def new_span_id() -> str:
    return os.urandom(8).hex()


def now_us() -> int:
    return time.time_ns() // 1000


def _value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list):
        out = AnyValue()
        out.array_value.values.extend(_value(item) for item in value)
        return out
    return AnyValue(string_value=str(value))


def _attributes(values: Mapping[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=_value(value)) for key, value in values.items()]


def _start_us(start: datetime | int | None) -> int:
    if start is None:
        return now_us()
    if isinstance(start, datetime):
        return int(start.timestamp() * 1_000_000)
    return start


def otlp_span(spec: Mapping[str, Any]) -> Span:
    """One OTLP span from a dict: trace_id, span_id (hex), parent (hex or None), name, kind ("server", ...),
    start (datetime or microseconds; now by default), duration_ms, status ("ok", "error", "unset"),
    status_message, attributes, events ([{"name", "offset_ms", "attributes"}])."""
    start_ns = _start_us(spec.get("start")) * 1000
    span = Span(
        trace_id=bytes.fromhex(spec["trace_id"]),
        span_id=bytes.fromhex(spec["span_id"]),
        parent_span_id=bytes.fromhex(spec["parent"]) if spec.get("parent") else b"",
        name=spec.get("name", "operation"),
        kind=KINDS[spec.get("kind", "internal")],  # type: ignore[arg-type]
        start_time_unix_nano=start_ns,
        end_time_unix_nano=start_ns + int(spec.get("duration_ms", 1.0) * 1_000_000),
        status=Status(code=STATUSES[spec.get("status", "unset")], message=spec.get("status_message", "")),  # type: ignore[arg-type]
    )
    span.attributes.extend(_attributes(spec.get("attributes", {})))
    for event in spec.get("events", ()):
        added = span.events.add(name=event["name"], time_unix_nano=start_ns + int(event.get("offset_ms", 0) * 1e6))
        added.attributes.extend(_attributes(event.get("attributes", {})))
    return span


def otlp_request(spans: Iterable[Mapping[str, Any]]) -> ExportTraceServiceRequest:
    """An export request holding the spans, one resource per service (`service`, default "svc"; extra resource
    attributes under `resource`)."""
    request = ExportTraceServiceRequest()
    resources: dict[str, ResourceSpans] = {}
    for spec in spans:
        service = spec.get("service", "svc")
        resource = {"service.name": service, **spec.get("resource", {})}
        key = json.dumps(resource, sort_keys=True)
        if key not in resources:
            resources[key] = request.resource_spans.add()
            resources[key].resource.attributes.extend(_attributes(resource))
            resources[key].scope_spans.add().scope.name = "tests"
        resources[key].scope_spans[0].spans.append(otlp_span(spec))
    return request


def otlp_json(request: ExportTraceServiceRequest) -> dict[str, Any]:
    """The request in OTLP JSON: protobuf's JSON mapping with hex ids instead of base64."""
    document: dict[str, Any] = json_format.MessageToDict(request)
    for resource in document.get("resourceSpans", ()):
        for scope in resource.get("scopeSpans", ()):
            for span in scope.get("spans", ()):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = _b64_to_hex(span[key])
    return document


def _b64_to_hex(value: str) -> str:
    return base64.b64decode(value).hex()


async def post_traces(
    client: httpx.AsyncClient, body: bytes, content_type: str = PROTOBUF, *, gzip: bool = False
) -> httpx.Response:
    headers = {"content-type": content_type}
    if gzip:
        body = gzip_module.compress(body)
        headers["content-encoding"] = "gzip"
    return await client.post("/v1/traces", content=body, headers=headers)


async def ingest(
    client: httpx.AsyncClient, spans: Iterable[Mapping[str, Any]], *, encoding: str = PROTOBUF, gzip: bool = False
) -> httpx.Response:
    """Send the spans (dicts, see `otlp_span`) to the receiver; asserts they were all stored (200)."""
    request = otlp_request(spans)
    body = request.SerializeToString() if encoding == PROTOBUF else json.dumps(otlp_json(request)).encode()
    response = await post_traces(client, body, encoding, gzip=gzip)
    assert response.status_code == 200, response.content
    return response
