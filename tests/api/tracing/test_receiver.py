"""The OTLP receiver: both encodings, gzip, and every refusal the specification names, with the stored rows."""

from __future__ import annotations

import httpx
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tests.api.tracing.conftest import JSON, PROTOBUF, ingest, new_span_id, new_trace_id, otlp_request, post_traces

pytestmark = pytest.mark.anyio


async def test_protobuf_spans_are_stored_and_answered_in_protobuf(tracing: httpx.AsyncClient) -> None:
    trace_id, root, child = new_trace_id(), new_span_id(), new_span_id()
    response = await ingest(
        tracing,
        [
            {"trace_id": trace_id, "span_id": root, "service": "gateway", "name": "POST /predict", "kind": "server"},
            {"trace_id": trace_id, "span_id": child, "parent": root, "service": "model-api", "name": "predict"},
        ],
    )
    assert response.headers["content-type"] == PROTOBUF
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 0
    exported = await tracing.get(f"/traces/{trace_id}/export")
    assert exported.status_code == 200, exported.text
    spans = [span for rs in exported.json()["resourceSpans"] for ss in rs["scopeSpans"] for span in ss["spans"]]
    assert {span["spanId"] for span in spans} == {root, child}


async def test_malformed_protobuf_is_a_400_status(tracing: httpx.AsyncClient) -> None:
    response = await post_traces(tracing, b"\xff\xff\xff not protobuf")
    assert response.status_code == 400
    status = status_pb2.Status.FromString(response.content)
    assert status.code == 3 and status.message


async def test_json_is_answered_in_json(tracing: httpx.AsyncClient) -> None:
    trace_id = new_trace_id()
    response = await ingest(tracing, [{"trace_id": trace_id, "span_id": new_span_id()}], encoding=JSON, gzip=True)
    assert response.headers["content-type"] == JSON
    assert response.json() == {}
    assert otlp_request([]).SerializeToString() == b""
