"""`GET /` (what the store holds, the receiver's path, the retention) and `GET /dashboard` (the Traces page in
one call), checked against the spans sent."""

from __future__ import annotations

import httpx
import pytest

from tests.api.tracing.conftest import ingest
from tests.api.tracing.traces_factory import all_spans, iso_us, job, prediction

pytestmark = pytest.mark.anyio


async def test_the_service_describes_its_store(tracing: httpx.AsyncClient) -> None:
    empty = (await tracing.get("/")).json()
    assert empty["service"] == "tracing" and empty["version"]
    assert (empty["spans"], empty["traces"], empty["oldest"], empty["newest"]) == (0, 0, None, None)
    assert empty["otlp_endpoint"] == "/v1/traces"
    assert empty["retention"] == {"hours": 168, "max_spans": 2_000_000}
    traces = [prediction(minutes_ago=30, total_ms=40), job(minutes_ago=5, total_ms=10, job_id="j")]
    await ingest(tracing, all_spans(traces))
    body = (await tracing.get("/")).json()
    starts = [s["start"] for s in all_spans(traces)]
    assert (body["spans"], body["traces"]) == (6, 2)
    assert (iso_us(body["oldest"]), iso_us(body["newest"])) == (min(starts), max(starts))


async def test_the_dashboard_sums_up_the_window(tracing: httpx.AsyncClient) -> None:
    traces = [prediction(minutes_ago=1 + 2 * i, total_ms=20 + 15 * i, error=i == 3) for i in range(12)]
    traces.append(job(minutes_ago=4, total_ms=70, job_id="j"))
    old = prediction(minutes_ago=120, total_ms=5000, error=True)
    await ingest(tracing, all_spans([*traces, old]))
    body = (await tracing.get("/dashboard")).json()
    assert body["window_minutes"] == 60
    assert (body["traces"], body["spans"]) == (13, sum(len(t.spans) for t in traces))
    assert body["error_rate"] == round(1 / 13, 6)
    performance = (await tracing.get("/metrics/performance")).json()
    assert body["services"] == performance["services"]
    longest = sorted(traces, key=lambda t: -t.duration_ms)[:10]
    assert [t["trace_id"] for t in body["slowest"]] == [t.trace_id for t in longest]
    assert body["slowest"][0]["duration_ms"] == float(longest[0].duration_ms)
    errors = (await tracing.get("/metrics/errors")).json()
    assert body["recent_errors"] == errors["recent"] and len(body["recent_errors"]) == 2
    assert body["edges"] == (await tracing.get("/service-map")).json()["edges"]
    assert body["edges"][0]["calls"] == 12
    wider = (await tracing.get("/dashboard", params={"window_minutes": 180})).json()
    assert wider["traces"] == 14 and wider["slowest"][0]["trace_id"] == old.trace_id
    assert (await tracing.get("/dashboard", params={"window_minutes": 0})).status_code == 422
