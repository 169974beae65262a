"""One trace by id (summary, spans depth-first with depth and offset, tree), its spans, one span; 404 and 422."""

from __future__ import annotations

import httpx
import pytest

from tests.api.tracing.conftest import ingest, new_span_id, new_trace_id, now_us
from tests.api.tracing.traces_factory import iso_us, prediction

pytestmark = pytest.mark.anyio


async def test_a_trace_is_its_summary_its_spans_depth_first_and_its_tree(tracing: httpx.AsyncClient) -> None:
    built = prediction(minutes_ago=5, total_ms=40, error=True, request_id="r-1")
    await ingest(tracing, built.spans)
    response = await tracing.get(f"/traces/{built.trace_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    ids = [span["span_id"] for span in built.spans]
    assert body["trace"] == {
        "trace_id": built.trace_id,
        "start_time": body["trace"]["start_time"],
        "duration_ms": 40.0,
        "span_count": 5,
        "error_count": 2,
        "root_service": "gateway",
        "root_operation": "POST /api/model-cache/predict",
        "services": ["gateway", "model-cache"],
    }
    assert iso_us(body["trace"]["start_time"]) == built.start_us
    # depth-first, children by start time: root, model-cache, mlsec.predict, model.predict, prediction_log.record
    assert [span["span_id"] for span in body["spans"]] == ids
    assert [span["depth"] for span in body["spans"]] == [0, 1, 2, 3, 3]
    assert [span["offset_ms"] for span in body["spans"]] == [0.0, 1.0, 2.0, 3.0, 13.0]
    assert body["tree"] == [
        {
            "span_id": ids[0],
            "children": [
                {
                    "span_id": ids[1],
                    "children": [
                        {
                            "span_id": ids[2],
                            "children": [{"span_id": ids[3], "children": []}, {"span_id": ids[4], "children": []}],
                        }
                    ],
                }
            ],
        }
    ]
    root = body["spans"][0]
    assert root["status"] == "error" and root["status_message"] == "model failed"
    assert root["parent_span_id"] is None and root["kind"] == "server" and root["duration_ms"] == 40.0
    assert root["attributes"]["mlsec.request_id"] == "r-1"
    assert root["resource"]["service.name"] == "gateway"
    assert body["spans"][2]["attributes"]["mlsec.model.name"] == "ham-spam"


async def test_a_span_whose_parent_never_arrived_is_a_root_of_its_own(tracing: httpx.AsyncClient) -> None:
    trace_id, first, orphan = new_trace_id(), new_span_id(), new_span_id()
    start = now_us()
    await ingest(
        tracing,
        [
            {"trace_id": trace_id, "span_id": first, "service": "a", "start": start, "duration_ms": 5},
            {
                "trace_id": trace_id,
                "span_id": orphan,
                "parent": new_span_id(),
                "service": "b",
                "start": start + 2000,
                "duration_ms": 10,
            },
        ],
    )
    body = (await tracing.get(f"/traces/{trace_id}")).json()
    assert [(s["span_id"], s["depth"]) for s in body["spans"]] == [(first, 0), (orphan, 0)]
    assert body["tree"] == [{"span_id": first, "children": []}, {"span_id": orphan, "children": []}]
    assert body["trace"]["duration_ms"] == 12.0


async def test_spans_of_a_trace_by_start_time_and_one_span(tracing: httpx.AsyncClient) -> None:
    built = prediction(minutes_ago=1, total_ms=20)
    await ingest(tracing, list(reversed(built.spans)))
    body = (await tracing.get(f"/traces/{built.trace_id}/spans")).json()
    assert body["trace_id"] == built.trace_id
    starts = [span["start_time"] for span in body["spans"]]
    assert starts == sorted(starts) and len(starts) == 5
    assert "depth" not in body["spans"][0]
    wanted = built.spans[3]
    one = (await tracing.get(f"/traces/{built.trace_id}/spans/{wanted['span_id']}")).json()
    assert one["span_id"] == wanted["span_id"] and one["operation"] == "model.predict"
    assert one["parent_span_id"] == built.spans[2]["span_id"] and one["duration_ms"] == 5.0
    assert one["kind"] == "internal" and one["status"] == "unset" and one["service"] == "model-cache"


async def test_unknown_ids_are_404_and_malformed_ids_422(tracing: httpx.AsyncClient) -> None:
    built = prediction(minutes_ago=1, total_ms=20)
    await ingest(tracing, built.spans)
    unknown_trace, unknown_span = new_trace_id(), new_span_id()
    for path in (
        f"/traces/{unknown_trace}",
        f"/traces/{unknown_trace}/spans",
        f"/traces/{unknown_trace}/spans/{unknown_span}",
        f"/traces/{built.trace_id}/spans/{unknown_span}",
    ):
        response = await tracing.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"], path
    for path in (
        "/traces/abc",
        f"/traces/{built.trace_id}0",
        "/traces/" + "g" * 32,
        "/traces/" + "g" * 32 + "/spans",
        f"/traces/{built.trace_id}/spans/123",
        f"/traces/{built.trace_id}/spans/" + "z" * 16,
    ):
        assert (await tracing.get(path)).status_code == 422, path


async def test_a_very_deep_trace_nests_its_tree_at_most_100_levels(tracing: httpx.AsyncClient) -> None:
    trace_id, ids, start = new_trace_id(), [new_span_id() for _ in range(300)], now_us()
    spans = [
        {
            "trace_id": trace_id,
            "span_id": span_id,
            "parent": ids[i - 1] if i else None,
            "service": "deep",
            "start": start + i,
            "duration_ms": 1,
        }
        for i, span_id in enumerate(ids)
    ]
    await ingest(tracing, spans)
    response = await tracing.get(f"/traces/{trace_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [s["depth"] for s in body["spans"]] == list(range(300))
    level, node = 0, body["tree"][0]
    while node["children"] and level < 100:
        node, level = node["children"][0], level + 1
    assert level == 100 and [child["span_id"] for child in node["children"]] == []
    flat = body["tree"][0]
    for _ in range(99):
        flat = flat["children"][0]
    assert [child["span_id"] for child in flat["children"]] == ids[100:]
