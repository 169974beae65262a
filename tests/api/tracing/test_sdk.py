"""`TracingClient` against the real tracing app: every method calls its route and gets the service's answer, and
an error answer becomes `ServiceCallError` with its status."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from mlsec.client import TracingClient, endpoints
from mlsec.client.base import ServiceCallError
from mlsec.core.settings import Settings
from tests.api.tracing.conftest import new_trace_id, otlp_json, otlp_request
from tests.api.tracing.traces_factory import job, prediction

pytestmark = pytest.mark.anyio


@pytest.fixture
def sdk(tracing: httpx.AsyncClient, settings: Settings) -> TracingClient:
    return TracingClient("tracing", "http://testserver", tracing, settings)


async def test_every_method_reaches_its_route(sdk: TracingClient) -> None:
    called: set[str] = set()
    built = prediction(minutes_ago=2, total_ms=50, error=True, request_id="r-9")
    other = job(minutes_ago=1, total_ms=10, job_id="j")
    answer = await sdk.send_traces(otlp_request(built.spans).SerializeToString())
    assert ExportTraceServiceResponse.FromString(answer).partial_success.rejected_spans == 0
    as_json = json.dumps(otlp_json(otlp_request(other.spans))).encode()
    answered = await sdk.send_traces(gzip.compress(as_json), content_type="application/json", content_encoding="gzip")
    assert int(json.loads(answered).get("partialSuccess", {}).get("rejectedSpans", 0)) == 0
    called.add("send_traces")

    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    for name in ("get_traces", "search_traces"):
        found = await getattr(sdk, name)(
            service="gateway", tags={"mlsec.request_id": "r-9"}, min_duration_ms=40, start=hour_ago, status="error"
        )
        assert [t["trace_id"] for t in found["traces"]] == [built.trace_id]
        listed = await getattr(sdk, name)(tags=["mlsec.job.id=j"], sort="duration", limit=5)
        assert [t["trace_id"] for t in listed["traces"]] == [other.trace_id] and listed["limit"] == 5
        called.add(name)
    trace = await sdk.get_trace(built.trace_id)
    assert len(trace["spans"]) == 5 and trace["tree"][0]["span_id"] == built.spans[0]["span_id"]
    spans = await sdk.get_trace_spans(built.trace_id)
    assert len(spans["spans"]) == 5
    span = await sdk.get_span(built.trace_id, built.spans[2]["span_id"])
    assert span["operation"] == "mlsec.predict"
    exported = await sdk.export_trace(built.trace_id)
    assert exported["resourceSpans"]
    called |= {"get_trace", "get_trace_spans", "get_span", "export_trace"}

    assert (await sdk.get_performance(service="gateway"))["services"][0]["count"] == 1
    assert (await sdk.get_errors(window_minutes=30, service="model-cache"))["errors"] == 1
    assert (await sdk.get_trace_metrics(window_minutes=10))["traces"] == 2
    assert [s["name"] for s in (await sdk.get_services())["services"]] == ["gateway", "model-cache", "training"]
    assert (await sdk.get_service_operations("training"))["operations"][0]["name"] == "POST /training/jobs"
    assert (await sdk.get_service_map())["edges"][0]["calls"] == 1
    assert (await sdk.get_dashboard(window_minutes=15))["traces"] == 2
    assert (await sdk.get_info())["traces"] == 2
    called |= {
        "get_performance",
        "get_errors",
        "get_trace_metrics",
        "get_services",
        "get_service_operations",
        "get_service_map",
        "get_dashboard",
        "get_info",
    }
    common = {"get_health", "get_health_live", "get_health_ready", "get_health_deep", "get_metrics"}
    assert {e.name for e in endpoints(TracingClient)} - common == called


async def test_error_answers_raise_with_their_status(sdk: TracingClient) -> None:
    with pytest.raises(ServiceCallError) as unknown:
        await sdk.get_trace(new_trace_id())
    assert unknown.value.status_code == 404
    with pytest.raises(ServiceCallError) as bad:
        await sdk.get_traces(min_duration_ms=10, max_duration_ms=1)
    assert bad.value.status_code == 422
    with pytest.raises(ServiceCallError) as missing:
        await sdk.get_service_operations("nobody")
    assert missing.value.status_code == 404
    with pytest.raises(ServiceCallError) as garbage:
        await sdk.send_traces(b"not protobuf at all \xff")
    assert garbage.value.status_code == 400
