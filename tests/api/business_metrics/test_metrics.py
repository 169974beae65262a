"""`GET /metrics` (Prometheus text for scrapers, the business summary as JSON when asked) and
`GET /metrics/summary`, on a known story."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mlsec.services.business_metrics.state import BusinessMetrics
from tests.api.business_metrics.kpi_support import Story, load, story

pytestmark = pytest.mark.anyio


@pytest.fixture
async def told(business: BusinessMetrics) -> Story:
    told = story()
    await load(business, told)
    return told


async def test_scrapers_still_get_prometheus_text(client: httpx.AsyncClient) -> None:
    await client.get("/health")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert any(name.startswith("mlsec_") for name in names), names


@pytest.mark.parametrize("how", [{"params": {"format": "json"}}, {"headers": {"Accept": "application/json"}}])
async def test_json_is_the_summary_of_the_last_day(
    client: httpx.AsyncClient, told: Story, how: dict[str, dict[str, str]]
) -> None:
    response = await client.get("/metrics", **how)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["period"]["seconds"] == 24 * 3600
    assert body["totals"]["predictions"] == len(told.predictions)
    assert body["totals"]["latency_p99_ms"] == pytest.approx(told.percentile(0.99), rel=0.01)


async def test_format_prometheus_wins_over_accept(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics", params={"format": "prometheus"}, headers={"Accept": "application/json"})
    assert response.headers["content-type"].startswith("text/plain")


async def test_summary_per_model_version_and_service(client: httpx.AsyncClient, told: Story) -> None:
    response = await client.get("/metrics/summary", params=told.params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resolution"] == "minute"
    assert body["prices"] == {"cpu_per_hour": 0.0475, "memory_per_gib_hour": 0.005, "currency": "USD"}
    totals = body["totals"]
    assert totals["predictions"] == len(told.predictions)
    assert totals["throughput_per_s"] == pytest.approx(len(told.predictions) / told.seconds)
    costs = told.version_costs()
    models = {m["model_version"]: m for m in body["models"]}
    assert set(models) == {"1", "2"}
    for version, row in models.items():
        assert row["predictions"] == len(told.of(version))
        assert row["latency_p99_ms"] == pytest.approx(told.percentile(0.99, version), rel=0.01)
        assert row["cost"] == pytest.approx(costs[version][0])
        assert row["cost_per_1k_predictions"] == pytest.approx(costs[version][0] / len(told.of(version)) * 1000)
    services = {s["service"]: s for s in body["services"]}
    assert set(services) == {"model-api", "model-cache", "training"}
    observed, down, _ = told.down("model-api")
    assert services["model-api"]["availability"] == pytest.approx(1 - down / observed)
    assert services["training"]["cost"] == pytest.approx(told.service_cost("training"))
    assert totals["cost"] == pytest.approx(sum(told.service_cost(s) for s in told.services))


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/metrics/summary", {"period": "yesterday"}),
        ("/metrics/summary", {"period": "24h", "start": "2026-01-01T00:00:00Z"}),
        ("/metrics/summary", {"end": "2026-01-01T00:00:00Z"}),
        ("/metrics", {"format": "xml"}),
    ],
)
async def test_bad_input_is_a_422_envelope(client: httpx.AsyncClient, path: str, params: dict[str, str]) -> None:
    response = await client.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"] is True
