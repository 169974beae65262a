"""`GET /metrics/export`: the KPI series as CSV, JSON and Prometheus text, read back and checked against the
story's raw records minute by minute."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mlsec.services.business_metrics.state import BusinessMetrics
from tests.api.business_metrics.kpi_support import MINUTES, Story, load, story

pytestmark = pytest.mark.anyio


@pytest.fixture
async def told(business: BusinessMetrics) -> Story:
    told = story()
    await load(business, told)
    return told


def per_minute(told: Story, version: str | None = None) -> list[int]:
    counts = Counter(int((p.at - told.base).total_seconds() // 60) for p in told.of(version))
    return [counts[m] for m in range(MINUTES)]


async def test_csv_rows_per_bucket(client: httpx.AsyncClient, told: Story) -> None:
    params = {**told.params, "format": "csv", "kpi": ["predictions", "availability"]}
    response = await client.get("/metrics/export", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["start", "kpi", "scope", "model_name", "model_version", "service", "value"]
    platform = [r for r in rows if r["kpi"] == "predictions" and r["scope"] == "platform"]
    assert [datetime.fromisoformat(r["start"]) for r in platform] == [
        told.base + timedelta(minutes=m) for m in range(MINUTES)
    ]
    assert [float(r["value"]) for r in platform] == per_minute(told)
    v2 = [float(r["value"]) for r in rows if r["kpi"] == "predictions" and r["model_version"] == "2"]
    assert v2 == per_minute(told, "2")
    api = [r["value"] for r in rows if r["kpi"] == "availability" and r["service"] == "model-api"]
    # Down at the probes of minutes 3 and 4: half of minute 3's and of minute 5's interval (the changes), all of 4's.
    assert [float(v) for v in api] == [{3: 0.5, 4: 0.0, 5: 0.5}.get(m, 1.0) for m in range(MINUTES)]


async def test_json_series(client: httpx.AsyncClient, told: Story) -> None:
    params = {**told.params, "format": "json", "kpi": "throughput_per_s", "model_name": "detector"}
    body = (await client.get("/metrics/export", params=params)).json()
    assert body["resolution"] == "minute"
    v1 = [r["value"] for r in body["rows"] if r["model_version"] == "1"]
    assert v1 == [pytest.approx(n / 60) for n in per_minute(told, "1")]
    assert {r["scope"] for r in body["rows"]} == {"model"}  # a model filter drops the platform's rows


async def test_prometheus_text_with_timestamps(client: httpx.AsyncClient, told: Story) -> None:
    params = {**told.params, "format": "prometheus", "kpi": ["predictions", "latency_p99_ms"]}
    response = await client.get("/metrics/export", params=params)
    assert response.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    samples = [s for s in families["mlsec_business_predictions"].samples if s.labels["scope"] == "platform"]
    assert [s.value for s in samples] == per_minute(told)
    assert [s.timestamp for s in samples] == [(told.base + timedelta(minutes=m)).timestamp() for m in range(MINUTES)]
    assert families["mlsec_business_latency_p99_ms"].samples


async def test_hourly_resolution(client: httpx.AsyncClient, told: Story) -> None:
    params = {"period": "3h", "format": "json", "kpi": "predictions", "resolution": "hour"}
    body = (await client.get("/metrics/export", params=params)).json()
    platform = [r for r in body["rows"] if r["scope"] == "platform"]
    assert body["resolution"] == "hour" and len(platform) == 3
    assert sum(r["value"] for r in platform) == len(told.predictions)


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"format": "xlsx"}, "format"),
        ({"kpi": "nope"}, "unknown KPI"),
        ({"period": "30d", "resolution": "minute"}, "points"),
        ({"resolution": "week"}, "resolution"),
        ({"period": "1y"}, "period"),
    ],
)
async def test_bad_input_is_a_422_envelope(client: httpx.AsyncClient, params: dict[str, str], says: str) -> None:
    response = await client.get("/metrics/export", params=params)
    assert response.status_code == 422, response.text
    assert says in response.json()["message"]
