"""`GET /metrics/kpis`: every KPI of a known story against the figures computed here from its raw records."""

from __future__ import annotations

import httpx
import pytest

from mlsec.services.business_metrics.state import BusinessMetrics
from tests.api.business_metrics.kpi_support import Story, load, rows_by, story

pytestmark = pytest.mark.anyio
PLATFORM = (None, None, None)


@pytest.fixture
async def told(business: BusinessMetrics) -> Story:
    told = story()
    await load(business, told)
    return told


async def test_every_kpi_against_the_raw_records(client: httpx.AsyncClient, told: Story) -> None:
    response = await client.get("/metrics/kpis", params=told.params)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["resolution"] == "minute"
    assert {d["name"] for d in answer["definitions"]} >= {"predictions", "cost_per_1k_predictions", "mttr_s"}

    def value(kpi: str, key: tuple[str | None, str | None, str | None] = PLATFORM) -> float | None:
        return rows_by(answer, kpi)[key]  # type: ignore[no-any-return]

    n = len(told.predictions)
    assert value("predictions") == n
    assert value("throughput_per_s") == pytest.approx(n / told.seconds)
    assert value("threats_detected") == told.threats() == value("threats_blocked")
    assert value("threat_rate") == pytest.approx(told.threats() / n)
    for version in ("1", "2"):
        key = ("detector", version, None)
        assert value("predictions", key) == len(told.of(version))
        assert value("threats_detected", key) == told.threats(version)
        for q, kpi in ((0.5, "latency_p50_ms"), (0.95, "latency_p95_ms"), (0.99, "latency_p99_ms")):
            assert value(kpi, key) == pytest.approx(told.percentile(q, version), rel=0.01), kpi
        mean = sum(told.latencies(version)) / len(told.latencies(version))
        assert value("latency_mean_ms", key) == pytest.approx(mean)
        fb = next(r for r in told.feedback if r.model_version == version)
        assert value("detection_rate", key) == pytest.approx(fb.tp / (fb.tp + fb.fn))
        assert value("false_positive_rate", key) == pytest.approx(fb.fp / (fb.fp + fb.tn))
    assert value("latency_p99_ms") == pytest.approx(told.percentile(0.99), rel=0.01)
    tp, fn = sum(r.tp for r in told.feedback), sum(r.fn for r in told.feedback)
    assert value("detection_rate") == pytest.approx(tp / (tp + fn))


async def test_service_and_event_kpis(client: httpx.AsyncClient, told: Story) -> None:
    answer = (await client.get("/metrics/kpis", params=told.params)).json()
    observed, down, outages = told.down("model-api")
    api = (None, None, "model-api")
    assert rows_by(answer, "availability")[api] == pytest.approx(1 - down / observed)
    assert rows_by(answer, "availability")[(None, None, "training")] == 1.0
    assert rows_by(answer, "mttr_s")[api] == pytest.approx(down / outages) == pytest.approx(120.0)
    assert rows_by(answer, "mttr_s")[(None, None, "model-cache")] is None  # no outage: nothing to recover from
    samples = [s for _, s in told.services["model-api"]]
    errors = sum(s.prediction_errors for s in samples) / sum(s.prediction_requests for s in samples)
    assert rows_by(answer, "error_rate")[api] == pytest.approx(errors)
    cpu = sum(s.cpu_s for samples in told.services.values() for _, s in samples)
    assert rows_by(answer, "cpu_seconds")[PLATFORM] == pytest.approx(cpu)
    memory = sum(s.memory_gib * s.interval_s / 3600 for samples in told.services.values() for _, s in samples)
    assert rows_by(answer, "memory_gib_hours")[PLATFORM] == pytest.approx(memory)
    assert rows_by(answer, "retrains")[("detector", None, None)] == 2
    assert rows_by(answer, "drift_alerts")[PLATFORM] == 3
    assert rows_by(answer, "promotions")[PLATFORM] == 1
    assert rows_by(answer, "sla_breaches")[PLATFORM] == 0


async def test_named_kpis_and_a_model_filter(client: httpx.AsyncClient, told: Story) -> None:
    params = {**told.params, "kpi": ["latency_p99_ms", "predictions"], "model_version": "2"}
    answer = (await client.get("/metrics/kpis", params=params)).json()
    assert {r["kpi"] for r in answer["rows"]} == {"latency_p99_ms", "predictions"}
    assert {(r["model_name"], r["model_version"], r["scope"]) for r in answer["rows"]} == {("detector", "2", "model")}
    assert rows_by(answer, "predictions")[("detector", "2", None)] == len(told.of("2"))
    assert [d["name"] for d in answer["definitions"]] == ["latency_p99_ms", "predictions"]
    assert answer["definitions"][0]["unit"] == "ms"


async def test_an_empty_period_has_zero_counts_and_no_ratios(client: httpx.AsyncClient) -> None:
    answer = (await client.get("/metrics/kpis", params={"period": "1h"})).json()
    platform = {r["kpi"]: r["value"] for r in answer["rows"] if r["scope"] == "platform"}
    assert platform["predictions"] == 0 and platform["throughput_per_s"] == 0
    assert platform["latency_p99_ms"] is None and platform["detection_rate"] is None


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"kpi": "latency_p100"}, "unknown KPI"),
        ({"kpi": ["predictions", "revenue"]}, "unknown KPI"),
        ({"period": "24x"}, "period"),
        ({"period": "0h"}, "period"),
        ({"period": "500d"}, "400 days"),
        ({"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "before end"),
        ({"start": "yesterday"}, "start"),
        ({"model_version": "bad version"}, "model_version"),
    ],
)
async def test_bad_input_is_a_422_envelope(client: httpx.AsyncClient, params: dict[str, object], says: str) -> None:
    response = await client.get("/metrics/kpis", params=params)  # type: ignore[arg-type]
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] is True and body["status_code"] == 422
    assert says in body["message"]
    if "unknown KPI" in says:
        assert "throughput_per_s" in body["message"] and "cost_per_1k_predictions" in body["details"]["known"]
