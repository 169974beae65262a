"""Spans sent through the gateway: `POST /api/tracing/v1/traces` reaches the real tracing service with its bytes,
content type and encoding unchanged (OTLP protobuf, gzipped or not, and OTLP JSON), and its answer comes back in
the content type it was given (an `ExportTraceServiceResponse` in protobuf, a `google.rpc.Status` for a payload it
cannot decode). Sending spans is a write: an operator or the platform's service token, never a viewer; reading
them back is a viewer's.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest
from google.rpc.status_pb2 import Status as RpcStatus
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from pydantic import SecretStr

from mlsec.core.auth import Role
from mlsec.core.service_token import SERVICE_TOKEN_HEADER
from mlsec.core.settings import Settings
from mlsec.services.gateway.service.security.policy import requirement_for
from mlsec.services.tracing.app import create_app
from tests.api.gateway.security_support import Gateway, gateway_settings, running_gateway
from tests.api.tracing.conftest import (
    JSON,
    PROTOBUF,
    new_span_id,
    new_trace_id,
    otlp_json,
    otlp_request,
    tracing_settings,
)
from tests.servers import ThreadedServer

pytestmark = pytest.mark.anyio
SEND = "/api/tracing/v1/traces"
SERVICE_TOKEN = "relay-test-service-token-0123456789abcdef"


@pytest.fixture
def tracing_server(backend_settings: Settings) -> Iterator[ThreadedServer]:
    """The real tracing service on its own port, on SQLite and on PostgreSQL."""
    server = ThreadedServer(create_app(backend_settings, tracing_settings())).start()
    try:
        yield server
    finally:
        server.stop()


def _spans(trace_id: str) -> list[dict[str, Any]]:
    root, child = new_span_id(), new_span_id()
    return [
        {
            "trace_id": trace_id,
            "span_id": root,
            "service": "gateway",
            "name": "POST /predict",
            "kind": "server",
            "duration_ms": 12.0,
            "attributes": {"http.route": "/predict", "http.response.status_code": 200},
        },
        {
            "trace_id": trace_id,
            "span_id": child,
            "parent": root,
            "service": "model-cache",
            "name": "mlsec.predict",
            "duration_ms": 7.5,
            "attributes": {"mlsec.model.name": "security-classifier", "mlsec.model.version": "3"},
        },
    ]


async def _stored(gateway: Gateway, key: str, trace_id: str, within: float = 15.0) -> dict[str, Any]:
    """The trace as the gateway relays `GET /traces/{id}` to a viewer, once its spans are stored."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        answer = await gateway.http.get(f"/api/tracing/traces/{trace_id}", headers=gateway.as_key(key))
        if answer.status_code == 200 and answer.json()["trace"]["span_count"] == 2:
            return dict(answer.json())
        assert answer.status_code in (200, 404), answer.text
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"trace {trace_id} not stored within {within} s: {answer.text}")
        await asyncio.sleep(0.1)


def test_sending_spans_is_a_write_and_reading_them_a_read() -> None:
    assert requirement_for("POST", SEND) == Role.OPERATOR
    assert requirement_for("GET", "/api/tracing/traces/{trace_id}") == Role.VIEWER
    assert requirement_for("GET", "/api/tracing/traces/{trace_id}/export") == Role.VIEWER


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
async def test_protobuf_spans_reach_the_service_unchanged_and_its_protobuf_answer_comes_back(
    settings: Settings, tracing_server: ThreadedServer, compressed: bool
) -> None:
    async with running_gateway(settings, tracing_url=tracing_server.url) as gateway:
        operator, viewer = await gateway.new_key(Role.OPERATOR), await gateway.new_key(Role.VIEWER)
        trace_id = new_trace_id()
        body = otlp_request(_spans(trace_id)).SerializeToString()
        headers = {**gateway.as_key(operator), "content-type": PROTOBUF}
        if compressed:
            body, headers["content-encoding"] = gzip.compress(body), "gzip"
        answer = await gateway.http.post(SEND, content=body, headers=headers)
        assert answer.status_code == 200, answer.content
        assert answer.headers["content-type"] == PROTOBUF
        reply = ExportTraceServiceResponse.FromString(answer.content)
        assert reply.partial_success.rejected_spans == 0

        stored = await _stored(gateway, viewer, trace_id)
        assert stored["trace"]["services"] == ["gateway", "model-cache"]
        by_operation = {span["operation"]: span for span in stored["spans"]}
        assert by_operation["mlsec.predict"]["attributes"]["mlsec.model.version"] == "3"
        assert by_operation["mlsec.predict"]["parent_span_id"] == by_operation["POST /predict"]["span_id"]


async def test_otlp_json_goes_through_too_and_answers_json(settings: Settings, tracing_server: ThreadedServer) -> None:
    async with running_gateway(settings, tracing_url=tracing_server.url) as gateway:
        operator, viewer = await gateway.new_key(Role.OPERATOR), await gateway.new_key(Role.VIEWER)
        trace_id = new_trace_id()
        body = json.dumps(otlp_json(otlp_request(_spans(trace_id)))).encode()
        headers = {**gateway.as_key(operator), "content-type": JSON}
        answer = await gateway.http.post(SEND, content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith(JSON)
        assert isinstance(answer.json(), dict)
        await _stored(gateway, viewer, trace_id)
        export = await gateway.http.get(f"/api/tracing/traces/{trace_id}/export", headers=gateway.as_key(viewer))
        assert export.status_code == 200
        exported = [span for r in export.json()["resourceSpans"] for s in r["scopeSpans"] for span in s["spans"]]
        assert {span["traceId"] for span in exported} == {trace_id}


async def test_an_undecodable_payload_gets_the_services_protobuf_status(
    settings: Settings, tracing_server: ThreadedServer
) -> None:
    async with running_gateway(settings, tracing_url=tracing_server.url) as gateway:
        operator = await gateway.new_key(Role.OPERATOR)
        headers = {**gateway.as_key(operator), "content-type": PROTOBUF}
        answer = await gateway.http.post(SEND, content=b"\xff\xff\xff not protobuf", headers=headers)
        assert answer.status_code == 400
        assert answer.headers["content-type"] == PROTOBUF
        assert RpcStatus.FromString(answer.content).message


async def test_a_viewer_and_an_anonymous_caller_may_not_send_the_service_token_may(
    settings: Settings, tracing_server: ThreadedServer
) -> None:
    own = gateway_settings()
    platform = settings.model_copy(update={"service_token": SecretStr(SERVICE_TOKEN)})
    async with running_gateway(platform, own, tracing_url=tracing_server.url) as gateway:
        viewer = await gateway.new_key(Role.VIEWER)
        body = otlp_request(_spans(new_trace_id())).SerializeToString()
        sent = {"content-type": PROTOBUF}
        assert (await gateway.http.post(SEND, content=body, headers=sent)).status_code == 401
        refused = await gateway.http.post(SEND, content=body, headers={**gateway.as_key(viewer), **sent})
        assert refused.status_code == 403
        assert refused.json()["details"] == {"role": "viewer", "required_role": "operator"}
        service = await gateway.http.post(SEND, content=body, headers={SERVICE_TOKEN_HEADER: SERVICE_TOKEN, **sent})
        assert service.status_code == 200, service.content
        assert ExportTraceServiceResponse.FromString(service.content).partial_success.rejected_spans == 0
