"""RED metrics over a window: `/metrics/performance`, `/metrics/errors`, `/metrics/traces`, each figure checked
against what the test computes from the spans it sent."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import httpx
import pytest

from mlsec.services.tracing.service import metrics
from tests.api.tracing.conftest import ingest
from tests.api.tracing.traces_factory import MINUTE_US, Built, all_spans, job, prediction, quantiles_ms

pytestmark = pytest.mark.anyio
HOUR_S = 3600


@pytest.fixture
async def stored(tracing: httpx.AsyncClient) -> list[Built]:
    """12 predictions over the last 50 minutes (every third an error), 2 jobs, and one prediction 3 hours ago."""
    traces = [
        prediction(minutes_ago=1 + 4 * i, total_ms=20 + 7 * i, error=i % 3 == 0, route="/predict" if i % 2 else "/b")
        for i in range(12)
    ]
    traces += [job(minutes_ago=10, total_ms=300, job_id="j1"), job(minutes_ago=20, total_ms=500, job_id="j2")]
    old = prediction(minutes_ago=180, total_ms=1000, error=True)
    await ingest(tracing, all_spans([*traces, old]))
    return traces


def requests(traces: list[Built]) -> list[dict[str, Any]]:
    """The spans RED counts as requests: SERVER spans and spans without a parent."""
    return [s for s in all_spans(traces) if s["kind"] == "server" or s["parent"] is None]


def red(spans: list[dict[str, Any]], service: str, operation: str | None) -> dict[str, Any]:
    p50, p95, p99 = quantiles_ms([float(s["duration_ms"]) for s in spans])
    errors = sum(s["status"] == "error" for s in spans)
    return {
        "service": service,
        "operation": operation,
        "count": len(spans),
        "rate_per_s": round(len(spans) / HOUR_S, 6),
        "errors": errors,
        "error_rate": round(errors / len(spans), 6),
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
    }


async def test_performance_per_service_and_operation(tracing: httpx.AsyncClient, stored: list[Built]) -> None:
    body = (await tracing.get("/metrics/performance")).json()
    assert body["window_minutes"] == 60
    spans = requests(stored)
    services = sorted({s["service"] for s in spans})
    assert body["services"] == [red([s for s in spans if s["service"] == n], n, None) for n in services]
    pairs = sorted({(s["service"], s["name"]) for s in spans})
    expected = [red([s for s in spans if (s["service"], s["name"]) == pair], *pair) for pair in pairs]
    assert body["operations"] == expected
    gateway = body["services"][0]
    assert gateway["service"] == "gateway" and gateway["count"] == 12 and gateway["errors"] == 4


async def test_performance_narrowed_to_a_service_and_an_operation(
    tracing: httpx.AsyncClient, stored: list[Built]
) -> None:
    params: dict[str, str | int] = {"service": "model-cache", "operation": "/predict", "window_minutes": 60}
    body = (await tracing.get("/metrics/performance", params=params)).json()
    spans = [s for s in requests(stored) if s["service"] == "model-cache" and s["name"] == "/predict"]
    assert body["services"] == [red(spans, "model-cache", None)]
    assert body["operations"] == [red(spans, "model-cache", "/predict")]
    empty = (await tracing.get("/metrics/performance", params={"service": "nobody"})).json()
    assert empty == {"window_minutes": 60, "services": [], "operations": []}


async def test_a_longer_window_counts_the_older_traces(tracing: httpx.AsyncClient, stored: list[Built]) -> None:
    body = (await tracing.get("/metrics/performance", params={"window_minutes": 240, "service": "gateway"})).json()
    assert body["services"][0]["count"] == 13 and body["services"][0]["errors"] == 5
    assert body["services"][0]["rate_per_s"] == round(13 / (240 * 60), 6)


async def test_errors_by_operation_and_the_newest_error_spans(tracing: httpx.AsyncClient, stored: list[Built]) -> None:
    body = (await tracing.get("/metrics/errors")).json()
    spans = all_spans(stored)
    errors = [s for s in spans if s["status"] == "error"]
    assert (body["spans"], body["errors"]) == (len(spans), len(errors))
    assert body["error_rate"] == round(len(errors) / len(spans), 6)
    counts = Counter((s["service"], s["name"]) for s in spans)
    failed = Counter((s["service"], s["name"]) for s in errors)
    expected = [
        {
            "service": sv,
            "operation": op,
            "count": n,
            "errors": failed[(sv, op)],
            "error_rate": round(failed[(sv, op)] / n, 6),
        }
        for (sv, op), n in counts.items()
    ]
    expected.sort(key=lambda r: (-r["errors"], -r["count"], r["service"], r["operation"]))
    assert body["by_operation"] == expected
    newest = sorted(errors, key=lambda s: -s["start"])
    assert [(r["trace_id"], r["span_id"]) for r in body["recent"]] == [(s["trace_id"], s["span_id"]) for s in newest]
    root = next(r for r in body["recent"] if r["service"] == "gateway")
    assert root["error_type"] == "ModelError" and root["status_message"] == "model failed"
    served = next(r for r in body["recent"] if r["service"] == "model-cache")
    assert served["error_type"] is None


async def test_errors_of_one_service_and_at_most_20_recent(tracing: httpx.AsyncClient) -> None:
    many = [prediction(minutes_ago=1 + i / 10, total_ms=20, error=True) for i in range(12)]
    await ingest(tracing, all_spans(many))
    body = (await tracing.get("/metrics/errors", params={"service": "gateway"})).json()
    assert (body["spans"], body["errors"], body["error_rate"]) == (12, 12, 1.0)
    assert [r["service"] for r in body["recent"]] == ["gateway"] * 12
    everything = (await tracing.get("/metrics/errors")).json()
    assert everything["errors"] == 24 and len(everything["recent"]) == 20


async def test_trace_metrics_and_per_minute(tracing: httpx.AsyncClient, stored: list[Built]) -> None:
    body = (await tracing.get("/metrics/traces")).json()
    assert body["window_minutes"] == 60
    assert body["traces"] == len(stored)
    assert body["spans"] == sum(len(t.spans) for t in stored)
    assert body["error_traces"] == sum(t.errors > 0 for t in stored)
    assert body["rate_per_s"] == round(len(stored) / HOUR_S, 6)
    p50, p95, p99 = quantiles_ms([float(t.duration_ms) for t in stored])
    assert body["duration_ms"] == {"p50": p50, "p95": p95, "p99": p99}
    minutes: dict[int, list[Built]] = {}
    for trace in stored:
        minutes.setdefault(trace.start_us // MINUTE_US, []).append(trace)
    expected = [
        {
            "minute": m * 60,
            "traces": len(ts),
            "errors": sum(t.errors > 0 for t in ts),
            "p95_ms": quantiles_ms([float(t.duration_ms) for t in ts])[1],
        }
        for m, ts in sorted(minutes.items())
    ]
    got = [{**row, "minute": int(datetime.fromisoformat(row["minute"]).timestamp())} for row in body["per_minute"]]
    assert got == expected


async def test_an_empty_store_has_zeros(tracing: httpx.AsyncClient) -> None:
    body = (await tracing.get("/metrics/traces", params={"window_minutes": 5})).json()
    assert body == {
        "window_minutes": 5,
        "traces": 0,
        "spans": 0,
        "error_traces": 0,
        "rate_per_s": 0.0,
        "duration_ms": {"p50": 0.0, "p95": 0.0, "p99": 0.0},
        "per_minute": [],
    }
    errors = (await tracing.get("/metrics/errors")).json()
    assert errors == {
        "window_minutes": 60,
        "spans": 0,
        "errors": 0,
        "error_rate": 0.0,
        "by_operation": [],
        "recent": [],
    }


@pytest.mark.parametrize("path", ["/metrics/performance", "/metrics/errors", "/metrics/traces"])
@pytest.mark.parametrize(
    "params",
    [{"window_minutes": 0}, {"window_minutes": 10081}, {"window_minutes": "hour"}, {"window_minutes": 1.5}],
)
async def test_bad_windows_are_422(tracing: httpx.AsyncClient, path: str, params: dict[str, Any]) -> None:
    assert (await tracing.get(path, params=params)).status_code == 422


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/metrics/performance", {"service": ""}),
        ("/metrics/performance", {"operation": "o" * 257}),
        ("/metrics/errors", {"service": "s" * 129}),
    ],
)
async def test_bad_names_are_422(tracing: httpx.AsyncClient, path: str, params: dict[str, Any]) -> None:
    assert (await tracing.get(path, params=params)).status_code == 422


async def test_counts_stay_exact_when_the_window_outgrows_the_sample(
    tracing: httpx.AsyncClient, stored: list[Built], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above `SAMPLE_ROWS` rows the counts come from SQL aggregates and the percentiles from the newest rows."""
    monkeypatch.setattr(metrics, "SAMPLE_ROWS", 3)
    body = (await tracing.get("/metrics/traces")).json()
    assert (body["traces"], body["error_traces"]) == (len(stored), sum(t.errors > 0 for t in stored))
    assert body["spans"] == sum(len(t.spans) for t in stored)
    newest = sorted(stored, key=lambda t: -t.start_us)[:3]
    p50, p95, p99 = quantiles_ms([float(t.duration_ms) for t in newest])
    assert body["duration_ms"] == {"p50": p50, "p95": p95, "p99": p99}
    assert sum(row["traces"] for row in body["per_minute"]) == len(stored)
    performance = (await tracing.get("/metrics/performance", params={"service": "gateway"})).json()
    gateway = performance["services"][0]
    assert (gateway["count"], gateway["errors"]) == (12, 4)
    roots = sorted((t.spans[0] for t in stored if t.spans[0]["service"] == "gateway"), key=lambda s: -s["start"])[:3]
    assert gateway["p50_ms"] == quantiles_ms([float(s["duration_ms"]) for s in roots])[0]
