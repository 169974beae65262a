"""The search of traces (`/traces` and `/search/traces`): each filter, their combination, the order, the limit,
and 422 for what can match nothing or cannot be read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mlsec.services.tracing.service import traces
from tests.api.tracing.conftest import ingest
from tests.api.tracing.traces_factory import Built, all_spans, job, prediction

pytestmark = pytest.mark.anyio


@pytest.fixture
async def stored(tracing: httpx.AsyncClient) -> dict[str, Built]:
    traces = {
        "fast": prediction(minutes_ago=1, total_ms=20, request_id="r-fast"),
        "batch_error": prediction(minutes_ago=2, total_ms=60, error=True, route="/predict/batch"),
        "job": job(minutes_ago=3, total_ms=100, job_id="job-7"),
        "slow": prediction(minutes_ago=4, total_ms=200, model="other"),
        "old": prediction(minutes_ago=180, total_ms=30),
    }
    await ingest(tracing, all_spans(list(traces.values())))
    return traces


async def found(client: httpx.AsyncClient, params: Any, path: str = "/traces") -> list[str]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["traces"])
    return [trace["trace_id"] for trace in body["traces"]]


def ids(stored: dict[str, Built], *names: str) -> list[str]:
    return [stored[name].trace_id for name in names]


async def test_newest_first_by_default_and_longest_first_by_duration(
    tracing: httpx.AsyncClient, stored: dict[str, Built]
) -> None:
    assert await found(tracing, {}) == ids(stored, "fast", "batch_error", "job", "slow", "old")
    assert await found(tracing, {"sort": "duration"}) == ids(stored, "slow", "job", "batch_error", "old", "fast")
    body = (await tracing.get("/traces", params={"limit": 2})).json()
    assert body["count"] == 2 and body["limit"] == 2
    assert [t["trace_id"] for t in body["traces"]] == ids(stored, "fast", "batch_error")
    summary = body["traces"][1]
    assert summary["duration_ms"] == 60.0 and summary["span_count"] == 5 and summary["error_count"] == 2
    assert summary["root_service"] == "gateway" and summary["services"] == ["gateway", "model-cache"]


async def test_service_operation_and_tags_ask_for_a_span_of_the_trace(
    tracing: httpx.AsyncClient, stored: dict[str, Built]
) -> None:
    assert await found(tracing, {"service": "training"}) == ids(stored, "job")
    assert await found(tracing, {"service": "model-cache", "operation": "model.predict"}) == ids(
        stored, "fast", "batch_error", "slow", "old"
    )
    assert await found(tracing, {"operation": "POST /training/jobs"}) == ids(stored, "job")
    assert await found(tracing, {"service": "training", "operation": "model.predict"}) == []
    assert await found(tracing, {"tag": "mlsec.job.id=job-7"}) == ids(stored, "job")
    assert await found(tracing, {"tag": "http.route=/predict/batch"}) == ids(stored, "batch_error")
    assert await found(tracing, [("tag", "mlsec.model.name=other"), ("tag", "http.route=/predict")]) == ids(
        stored, "slow"
    )
    assert await found(tracing, [("tag", "mlsec.model.name=other"), ("tag", "http.route=/predict/batch")]) == []
    assert await found(tracing, {"tag": "mlsec.request_id=r-fast", "service": "gateway"}) == ids(stored, "fast")
    assert await found(tracing, {"tag": "mlsec.request_id=nobody"}) == []


async def test_duration_status_and_time_are_the_traces(tracing: httpx.AsyncClient, stored: dict[str, Built]) -> None:
    assert await found(tracing, {"status": "error"}) == ids(stored, "batch_error")
    assert await found(tracing, {"status": "ok"}) == ids(stored, "fast", "job", "slow", "old")
    assert await found(tracing, {"min_duration_ms": 60}) == ids(stored, "batch_error", "job", "slow")
    assert await found(tracing, {"max_duration_ms": 59.999}) == ids(stored, "fast", "old")
    assert await found(tracing, {"min_duration_ms": 25, "max_duration_ms": 100}) == ids(
        stored, "batch_error", "job", "old"
    )
    # the trace's duration, not a span's: model.predict lasts 50 ms of the 200 ms trace
    assert await found(tracing, {"operation": "model.predict", "min_duration_ms": 150}) == ids(stored, "slow")
    now = datetime.now(UTC)
    recent = {"start": (now - timedelta(minutes=60)).isoformat(), "end": now.isoformat()}
    assert await found(tracing, recent) == ids(stored, "fast", "batch_error", "job", "slow")
    window = {"start": (now - timedelta(minutes=3.5)).isoformat(), "end": (now - timedelta(minutes=1.5)).isoformat()}
    assert await found(tracing, window) == ids(stored, "batch_error", "job")
    naive = {"end": (now - timedelta(minutes=100)).replace(tzinfo=None).isoformat()}  # naive: UTC
    assert await found(tracing, naive) == ids(stored, "old")
    combined = {**recent, "service": "model-cache", "operation": "mlsec.predict", "min_duration_ms": 50, "limit": 1}
    assert await found(tracing, combined) == ids(stored, "batch_error")


async def test_both_paths_give_the_same_answer(tracing: httpx.AsyncClient, stored: dict[str, Built]) -> None:
    cases: list[dict[str, str | int]] = [
        {},
        {"service": "gateway", "sort": "duration", "limit": 3},
        {"tag": "mlsec.job.id=job-7"},
    ]
    for params in cases:
        first = await tracing.get("/traces", params=params)
        second = await tracing.get("/search/traces", params=params)
        assert first.status_code == second.status_code == 200
        assert first.json() == second.json()


@pytest.mark.parametrize("probe_rows", [0, traces.PROBE_ROWS])
async def test_a_rare_and_a_common_filter_find_the_same_as_each_alone(
    tracing: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, probe_rows: int
) -> None:
    """A filter matching few rows drives the search (IN), a common one is checked per trace (EXISTS): either way
    the answer is the intersection (with no filter counted rare, every one is an EXISTS)."""
    monkeypatch.setattr(traces, "PROBE_ROWS", probe_rows)
    common = [prediction(minutes_ago=1 + i / 100, total_ms=20 + i) for i in range(30)]
    marked = prediction(minutes_ago=0.5, total_ms=25, request_id="needle")
    await ingest(tracing, all_spans([*common, marked]))
    both = {"tag": "mlsec.request_id=needle", "service": "model-cache", "operation": "model.predict"}
    assert await found(tracing, both) == [marked.trace_id]
    everything = await found(tracing, {"service": "model-cache", "limit": 1000})
    assert everything == [marked.trace_id] + [t.trace_id for t in common]


@pytest.mark.parametrize(
    "params",
    [
        {"tag": "no-equals-sign"},
        {"tag": "=value"},
        {"tag": "k=" + "v" * 257},
        {"tag": "k" * 129 + "=v"},
        {"min_duration_ms": 10, "max_duration_ms": 5},
        {"min_duration_ms": -1},
        {"max_duration_ms": "nan"},
        {"min_duration_ms": "fast"},
        {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        {"start": "2026"},
        {"end": "yesterday"},
        {"status": "failed"},
        {"sort": "name"},
        {"limit": 0},
        {"limit": 1001},
        {"service": ""},
        {"service": "s" * 129},
        {"operation": "o" * 257},
        [("tag", f"k{i}=v") for i in range(21)],
    ],
)
async def test_bad_filters_are_422(tracing: httpx.AsyncClient, params: Any) -> None:
    for path in ("/traces", "/search/traces"):
        response = await tracing.get(path, params=params)
        assert response.status_code == 422, (path, params, response.text)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/traces", {"service": "a\x00b"}),
        ("/search/traces", {"operation": "\x00"}),
        ("/traces", {"tag": "k=\x00"}),
        ("/metrics/performance", {"service": "\x00"}),
        ("/metrics/errors", {"service": "x\x00"}),
        ("/services/a%00b/operations", {}),
    ],
)
async def test_a_nul_character_is_422_on_every_backend(
    tracing: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    """PostgreSQL cannot compare a text with NUL: refused at the edge, not a 500."""
    assert (await tracing.get(path, params=params)).status_code == 422
