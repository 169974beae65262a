"""The OTLP receiver: both encodings, gzip, and every refusal the specification names; what it stores is read
back through the query API."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from mlsec.core.settings import Settings
from mlsec.services.tracing.app import create_app
from tests.api.tracing.conftest import (
    JSON,
    PROTOBUF,
    ingest,
    new_span_id,
    new_trace_id,
    otlp_json,
    otlp_request,
    post_traces,
    tracing_settings,
)
from tests.conftest import started_client

pytestmark = pytest.mark.anyio


@pytest.fixture
async def small(backend_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A receiver with a 2 KiB request limit."""
    app = create_app(backend_settings, tracing_settings(max_request_bytes=2048))
    async for client in started_client(app):
        yield client


def _status(response: httpx.Response) -> status_pb2.Status:
    if response.headers["content-type"] == PROTOBUF:
        return status_pb2.Status.FromString(response.content)
    status = status_pb2.Status()
    body = response.json()
    status.code, status.message = body.get("code", 0), body.get("message", "")
    return status


async def test_protobuf_spans_are_stored_and_answered_in_protobuf(tracing: httpx.AsyncClient) -> None:
    trace_id, root, child = new_trace_id(), new_span_id(), new_span_id()
    response = await ingest(
        tracing,
        [
            {
                "trace_id": trace_id,
                "span_id": root,
                "service": "gateway",
                "name": "POST /predict",
                "kind": "server",
                "duration_ms": 12.5,
                "attributes": {"http.route": "/predict", "http.response.status_code": 200, "mlsec.cached": False},
            },
            {
                "trace_id": trace_id,
                "span_id": child,
                "parent": root,
                "service": "model-api",
                "name": "mlsec.predict",
                "status": "error",
                "status_message": "model not loaded",
                "attributes": {"mlsec.model.name": "toxicity", "mlsec.batch_size": 4, "ratio": 0.25},
                "events": [{"name": "retry", "offset_ms": 1, "attributes": {"attempt": 2}}],
            },
        ],
    )
    assert response.headers["content-type"] == PROTOBUF
    assert not ExportTraceServiceResponse.FromString(response.content).HasField("partial_success")
    span = (await tracing.get(f"/traces/{trace_id}/spans/{child}")).json()
    assert span["parent_span_id"] == root
    assert span["service"] == "model-api" and span["operation"] == "mlsec.predict" and span["kind"] == "internal"
    assert span["status"] == "error" and span["status_message"] == "model not loaded"
    assert span["attributes"] == {"mlsec.model.name": "toxicity", "mlsec.batch_size": 4, "ratio": 0.25}
    assert span["events"][0]["name"] == "retry" and span["events"][0]["attributes"] == {"attempt": 2}
    assert span["resource"] == {"service.name": "model-api"}
    root_span = (await tracing.get(f"/traces/{trace_id}/spans/{root}")).json()
    assert root_span["kind"] == "server" and root_span["duration_ms"] == pytest.approx(12.5)
    assert root_span["attributes"]["mlsec.cached"] is False


async def test_otlp_json_with_hex_ids_is_answered_in_json(tracing: httpx.AsyncClient) -> None:
    trace_id, span_id = new_trace_id(), new_span_id()
    response = await ingest(tracing, [{"trace_id": trace_id, "span_id": span_id, "name": "json"}], encoding=JSON)
    assert response.headers["content-type"] == JSON
    assert response.json() == {}
    assert (await tracing.get(f"/traces/{trace_id}/spans/{span_id}")).json()["operation"] == "json"


async def test_gzip_bodies_are_inflated(tracing: httpx.AsyncClient) -> None:
    ids = [(new_trace_id(), new_span_id()) for _ in range(2)]
    await ingest(tracing, [{"trace_id": ids[0][0], "span_id": ids[0][1]}], gzip=True)
    await ingest(tracing, [{"trace_id": ids[1][0], "span_id": ids[1][1]}], encoding=JSON, gzip=True)
    for trace_id, span_id in ids:
        assert (await tracing.get(f"/traces/{trace_id}/spans/{span_id}")).status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "compress"),
    [
        (b"\xff\xff\xff not protobuf", PROTOBUF, False),
        (b"{not json", JSON, False),
        (b"[1, 2]", JSON, False),
        (b'{"resourceSpans": 5}', JSON, False),
        (b"not gzip at all", PROTOBUF, True),
    ],
)
async def test_an_undecodable_payload_is_a_400_status(
    tracing: httpx.AsyncClient, body: bytes, content_type: str, compress: bool
) -> None:
    headers = {"content-type": content_type, **({"content-encoding": "gzip"} if compress else {})}
    response = await tracing.post("/v1/traces", content=body, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == content_type
    status = _status(response)
    assert status.code == 3 and status.message


async def test_a_body_over_the_limit_is_a_413_status(small: httpx.AsyncClient) -> None:
    spans = [{"trace_id": new_trace_id(), "span_id": new_span_id(), "attributes": {"k": "v" * 3000}}]
    response = await post_traces(small, otlp_request(spans).SerializeToString())
    assert response.status_code == 413
    assert "MLSEC_TRACING_MAX_REQUEST_BYTES" in _status(response).message
    bomb = gzip.compress(b"\x00" * 100_000)  # 100 kB of zeros: about 100 bytes compressed
    assert len(bomb) < 2048
    inflated = await small.post("/v1/traces", content=bomb, headers={"content-type": JSON, "content-encoding": "gzip"})
    assert inflated.status_code == 413
    assert inflated.headers["content-type"] == JSON


async def test_a_chunked_body_over_the_limit_is_a_413(small: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"\x0a" * 512

    response = await small.post("/v1/traces", content=chunks(), headers={"content-type": PROTOBUF})
    assert response.status_code == 413


@pytest.mark.parametrize(
    "headers",
    [{"content-type": "text/plain"}, {"content-type": PROTOBUF, "content-encoding": "br"}, {}],
)
async def test_another_content_type_or_encoding_is_a_415(tracing: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await tracing.post("/v1/traces", content=b"{}", headers=headers)
    assert response.status_code == 415
    assert _status(response).code == 3


async def test_a_full_backlog_is_a_503_with_retry_after(backend_settings: Settings) -> None:
    app = create_app(backend_settings, tracing_settings(max_pending_spans=3))
    async for client in started_client(app):
        waiting, refused = new_trace_id(), new_trace_id()
        ingester = app.state.tracing.ingester
        async with ingester.lock:  # the writer is busy: what arrives now waits in the backlog
            queued = [{"trace_id": waiting, "span_id": new_span_id()} for _ in range(2)]
            first = asyncio.create_task(ingest(client, queued))
            for _ in range(500):  # until the request's spans are in the backlog
                if ingester.pending_spans == 2:
                    break
                await asyncio.sleep(0.01)
            spans = [{"trace_id": refused, "span_id": new_span_id()} for _ in range(2)]
            response = await post_traces(client, otlp_request(spans).SerializeToString())
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) >= 1
        assert _status(response).code == 14
        await first  # the waiting request is committed once the writer is free
        assert (await client.get(f"/traces/{waiting}")).status_code == 200
        assert (await client.get(f"/traces/{refused}")).status_code == 404  # nothing of a refused request is kept
        larger = [{"trace_id": refused, "span_id": new_span_id()} for _ in range(5)]
        await ingest(client, larger)  # larger than the whole backlog, taken when nothing waits


async def test_spans_with_bad_ids_are_refused_alone(tracing: httpx.AsyncClient) -> None:
    trace_id, good = new_trace_id(), new_span_id()
    document = otlp_json(
        otlp_request(
            [
                {"trace_id": trace_id, "span_id": good},
                {"trace_id": trace_id, "span_id": new_span_id()},
                {"trace_id": trace_id, "span_id": new_span_id()},
            ]
        )
    )
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[1]["spanId"] = "not-hex!"
    spans[2]["traceId"] = "00" * 16
    response = await tracing.post("/v1/traces", content=json.dumps(document), headers={"content-type": JSON})
    assert response.status_code == 200
    partial = response.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "2"
    assert "invalid span id" in partial["errorMessage"] and "invalid trace id" in partial["errorMessage"]
    stored = (await tracing.get(f"/traces/{trace_id}/spans")).json()["spans"]
    assert [span["span_id"] for span in stored] == [good]


async def test_a_span_sent_twice_is_stored_once(tracing: httpx.AsyncClient) -> None:
    trace_id, span_id = new_trace_id(), new_span_id()
    spans = [{"trace_id": trace_id, "span_id": span_id}]
    await ingest(tracing, spans)
    await ingest(tracing, spans + spans)  # an exporter's retry, and a duplicate inside one request
    trace = (await tracing.get(f"/traces/{trace_id}")).json()["trace"]
    assert trace["span_count"] == 1
