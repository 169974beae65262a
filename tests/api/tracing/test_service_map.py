"""The service map (`/service-map`): edges from parent/child spans across services, summed over the window's
minutes of what ingest counted, with calls, errors, error rate and mean and longest duration."""

from __future__ import annotations

import httpx
import pytest

from tests.api.tracing.conftest import ingest, new_span_id, new_trace_id, now_us
from tests.api.tracing.traces_factory import all_spans, job, prediction

pytestmark = pytest.mark.anyio


async def test_edges_and_nodes_from_the_spans_sent(tracing: httpx.AsyncClient) -> None:
    recent = [prediction(minutes_ago=2 + 3 * i, total_ms=20 + 10 * i, error=i in (1, 4)) for i in range(6)]
    old = prediction(minutes_ago=200, total_ms=900)
    await ingest(tracing, all_spans([*recent, old, job(minutes_ago=1, total_ms=50, job_id="j")]))
    body = (await tracing.get("/service-map")).json()
    children = [t.spans[1] for t in recent]  # model-cache's server span, the gateway root's child
    durations = [float(s["duration_ms"]) for s in children]
    errors = sum(s["status"] == "error" for s in children)
    assert body == {
        "window_minutes": 60,
        "nodes": [
            {"service": "gateway", "calls_in": 0, "calls_out": 6},
            {"service": "model-cache", "calls_in": 6, "calls_out": 0},
        ],
        "edges": [
            {
                "source": "gateway",
                "target": "model-cache",
                "calls": 6,
                "errors": errors,
                "error_rate": round(errors / 6, 6),
                "avg_ms": round(sum(durations) / 6, 3),
                "max_ms": max(durations),
            }
        ],
    }
    longer = (await tracing.get("/service-map", params={"window_minutes": 300})).json()
    assert longer["edges"][0]["calls"] == 7 and longer["edges"][0]["max_ms"] == 720.0


async def test_an_edge_counts_once_whichever_span_arrives_first(tracing: httpx.AsyncClient) -> None:
    first, second = prediction(minutes_ago=1, total_ms=40), prediction(minutes_ago=2, total_ms=40)
    await ingest(tracing, [first.spans[1], second.spans[0]])  # a child before its parent, a parent before its child
    await ingest(tracing, [first.spans[0], second.spans[1]])
    edges = (await tracing.get("/service-map")).json()["edges"]
    assert [(e["source"], e["target"], e["calls"]) for e in edges] == [("gateway", "model-cache", 2)]


async def test_three_services_in_a_chain(tracing: httpx.AsyncClient) -> None:
    trace_id, ids, start = new_trace_id(), [new_span_id() for _ in range(3)], now_us()
    spans = [
        {
            "trace_id": trace_id,
            "span_id": ids[0],
            "service": "gateway",
            "kind": "server",
            "start": start,
            "duration_ms": 30,
        },
        {
            "trace_id": trace_id,
            "span_id": ids[1],
            "parent": ids[0],
            "service": "model-api",
            "kind": "server",
            "start": start + 1000,
            "duration_ms": 20,
            "status": "error",
        },
        {
            "trace_id": trace_id,
            "span_id": ids[2],
            "parent": ids[1],
            "service": "analytics",
            "kind": "server",
            "start": start + 2000,
            "duration_ms": 5,
        },
    ]
    await ingest(tracing, spans)
    body = (await tracing.get("/service-map", params={"window_minutes": 5})).json()
    assert [(e["source"], e["target"], e["calls"], e["errors"]) for e in body["edges"]] == [
        ("gateway", "model-api", 1, 1),
        ("model-api", "analytics", 1, 0),
    ]
    assert body["nodes"] == [
        {"service": "analytics", "calls_in": 1, "calls_out": 0},
        {"service": "gateway", "calls_in": 0, "calls_out": 1},
        {"service": "model-api", "calls_in": 1, "calls_out": 1},
    ]


async def test_no_edges_and_bad_windows(tracing: httpx.AsyncClient) -> None:
    assert (await tracing.get("/service-map")).json() == {"window_minutes": 60, "nodes": [], "edges": []}
    for window in (0, 10081, "x"):
        assert (await tracing.get("/service-map", params={"window_minutes": window})).status_code == 422
