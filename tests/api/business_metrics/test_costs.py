"""`GET /costs`: each model version's share of its serving services' cost, per 1,000 predictions, against
the figures computed here from the raw probes and predictions."""

from __future__ import annotations

import httpx
import pytest

from mlsec.services.business_metrics.state import BusinessMetrics
from tests.api.business_metrics.kpi_support import Story, load, story

pytestmark = pytest.mark.anyio


@pytest.fixture
async def told(business: BusinessMetrics) -> Story:
    told = story()
    await load(business, told)
    return told


async def test_cost_per_1k_predictions_per_model_version(client: httpx.AsyncClient, told: Story) -> None:
    response = await client.get("/costs", params=told.params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["currency"] == "USD" and body["prices"]["cpu_per_hour"] == 0.0475
    expected = told.version_costs()
    models = {m["model_version"]: m for m in body["models"]}
    for version, (cost, cpu, memory) in expected.items():
        row = models[version]
        assert row["predictions"] == len(told.of(version))
        assert row["cost"] == pytest.approx(cost)
        assert row["cpu_seconds"] == pytest.approx(cpu)
        assert row["memory_gib_hours"] == pytest.approx(memory)
        assert row["cost_per_1k_predictions"] == pytest.approx(cost / len(told.of(version)) * 1000)
    platform = sum(told.service_cost(s) for s in told.services)
    totals = body["totals"]
    assert totals["cost"] == pytest.approx(platform)
    assert totals["attributed_cost"] == pytest.approx(sum(c for c, _, _ in expected.values()))
    assert totals["attributed_cost"] < totals["cost"]  # idle training and idle cache minutes are nobody's
    assert totals["cost_per_1k_predictions"] == pytest.approx(platform / len(told.predictions) * 1000)
    services = {s["service"]: s["cost"] for s in body["services"]}
    assert services == {s: pytest.approx(told.service_cost(s)) for s in told.services}


async def test_a_model_filter_and_an_empty_period(client: httpx.AsyncClient, told: Story) -> None:
    body = (await client.get("/costs", params={**told.params, "model_version": "2"})).json()
    assert [m["model_version"] for m in body["models"]] == ["2"]
    empty = (await client.get("/costs", params={"period": "2m"})).json()
    assert empty["models"] == [] and empty["totals"]["cost"] == 0
    assert empty["totals"]["cost_per_1k_predictions"] is None


@pytest.mark.parametrize("params", [{"period": "-1h"}, {"period": "1w"}, {"model_name": "../x"}])
async def test_bad_input_is_a_422_envelope(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await client.get("/costs", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["status_code"] == 422
