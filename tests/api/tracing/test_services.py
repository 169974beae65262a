"""Services that sent spans (`/services`) and one service's operations (`/services/{name}/operations`)."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from tests.api.tracing.conftest import ingest
from tests.api.tracing.traces_factory import all_spans, iso_us, job, prediction

pytestmark = pytest.mark.anyio


async def test_services_with_their_operations_spans_and_last_span(tracing: httpx.AsyncClient) -> None:
    traces = [prediction(minutes_ago=10 - i, total_ms=30) for i in range(4)]
    traces.append(job(minutes_ago=30, total_ms=100, job_id="j"))
    await ingest(tracing, all_spans(traces))
    body = (await tracing.get("/services")).json()
    spans = all_spans(traces)
    expected = []
    for name in sorted({s["service"] for s in spans}):
        own = [s for s in spans if s["service"] == name]
        expected.append(
            {
                "name": name,
                "operations": len({s["name"] for s in own}),
                "spans": len(own),
                "last_seen": max(s["start"] for s in own),
            }
        )
    got = [{**row, "last_seen": iso_us(row["last_seen"])} for row in body["services"]]
    assert got == expected
    assert [row["name"] for row in body["services"]] == ["gateway", "model-cache", "training"]


async def test_operations_of_a_service_most_spans_first(tracing: httpx.AsyncClient) -> None:
    traces = [prediction(minutes_ago=5 - i, total_ms=30, route="/predict" if i else "/b") for i in range(3)]
    await ingest(tracing, all_spans(traces))
    body = (await tracing.get("/services/model-cache/operations")).json()
    assert body["service"] == "model-cache"
    spans = [s for s in all_spans(traces) if s["service"] == "model-cache"]
    counts = Counter(s["name"] for s in spans)
    expected = sorted(
        (
            {
                "name": name,
                "kind": next(s["kind"] for s in spans if s["name"] == name),
                "count": n,
                "last_seen": max(s["start"] for s in spans if s["name"] == name),
            }
            for name, n in counts.items()
        ),
        key=lambda r: (-r["count"], r["name"]),
    )
    assert [{**r, "last_seen": iso_us(r["last_seen"])} for r in body["operations"]] == expected
    assert body["operations"][-1]["name"] == "/b" and body["operations"][-1]["kind"] == "server"


async def test_an_unknown_service_is_404_and_a_bad_name_422(tracing: httpx.AsyncClient) -> None:
    await ingest(tracing, prediction(minutes_ago=1, total_ms=30).spans)
    response = await tracing.get("/services/nobody/operations")
    assert response.status_code == 404 and "nobody" in response.json()["message"]
    assert (await tracing.get("/services/" + "s" * 129 + "/operations")).status_code == 422
    assert (await tracing.get("/services")).json()["services"][0]["name"] == "gateway"


async def test_no_spans_no_services(tracing: httpx.AsyncClient) -> None:
    assert (await tracing.get("/services")).json() == {"services": []}
    assert (await tracing.get("/services/gateway/operations")).status_code == 404
