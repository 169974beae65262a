"""`BusinessMetricsClient` against the real business-metrics app: every method calls its route with the parameters
the route reads (a figure computed here from the loaded records comes back through it), the report's bytes and the
export's text come back as the service sent them, and an error answer becomes `ServiceCallError` with its status."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from mlsec.client import BusinessMetricsClient, endpoints
from mlsec.client.base import ServiceCallError
from mlsec.core.settings import Settings
from mlsec.services.business_metrics.service.rollups import PredictionSample
from tests.api.business_metrics.conftest import prediction

pytestmark = pytest.mark.anyio
MODEL = "sdk-detector"
Loader = Callable[[Iterable[PredictionSample]], Awaitable[None]]


@pytest.fixture
def sdk(client: httpx.AsyncClient, settings: Settings) -> BusinessMetricsClient:
    return BusinessMetricsClient("business-metrics", "http://testserver", client, settings)


async def _load(load_predictions: Loader) -> tuple[datetime, list[float]]:
    """Three minutes of version 1's traffic (two threats in every five), ending two minutes ago."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    latencies: list[float] = []
    samples = []
    for minute, count in ((4, 5), (3, 10), (2, 15)):
        for i in range(count):
            latency = 3.0 + i + minute
            latencies.append(latency)
            label = "injection" if i % 5 < 2 else "0"
            at = now - timedelta(minutes=minute, seconds=-10)
            samples.append(prediction(at, model_name=MODEL, model_version="1", label=label, latency_ms=latency))
    await load_predictions(samples)
    return now, latencies


async def test_every_method_reaches_its_route(sdk: BusinessMetricsClient, load_predictions: Loader) -> None:
    _, latencies = await _load(load_predictions)
    count = len(latencies)
    called: set[str] = set()

    def mine(rows: list[dict[str, object]]) -> dict[str, object]:
        return next(row for row in rows if row["model_name"] == MODEL and row["model_version"] == "1")

    status = await sdk.get_status()
    assert isinstance(status, dict) and status
    summary = await sdk.get_summary(period="1h")
    assert summary["totals"]["predictions"] == count and mine(summary["models"])["threats_detected"] == 12
    assert (await sdk.get_metrics_json())["totals"]["predictions"] == count
    assert "# TYPE" in await sdk.get_metrics()  # the Prometheus text stays the default
    kpis = await sdk.get_kpis(kpis=["predictions", "threats_detected"], period="1h", model_name=MODEL)
    assert {row["kpi"] for row in kpis["rows"]} == {"predictions", "threats_detected"}
    exported = await sdk.export_metrics(format="csv", kpis=["predictions"], period="1h", resolution="minute")
    per_minute = [row for row in csv.DictReader(io.StringIO(exported)) if row["model_name"] == MODEL]
    assert sum(float(row["value"]) for row in per_minute if row["value"]) == count
    assert json.loads(await sdk.export_metrics(format="json", period="1h"))["rows"]
    assert "predictions" in await sdk.export_metrics(format="prometheus", period="1h")
    called |= {"get_status", "get_summary", "get_metrics", "get_kpis", "export_metrics"}

    for name in ("get_performance", "get_security", "get_compliance"):
        assert isinstance(await getattr(sdk, name)(period="1h"), dict), name
        called.add(name)
    for name in ("get_throughput", "get_latency", "get_threats"):
        answer = await getattr(sdk, name)(period="1h", resolution="minute", model_name=MODEL)
        assert answer["period"], name
        called.add(name)
    costs = await sdk.get_costs(period="1h", model_name=MODEL, model_version="1")
    assert mine(costs["models"])["predictions"] == count
    trend = await sdk.get_trends("predictions", period="1h", resolution="minute", model_name=MODEL)
    assert sum(point["value"] or 0 for point in trend["series"]) == count and trend["kpi"] == "predictions"
    correlation = await sdk.get_correlation(["predictions", "threats_detected"], period="1h", model_name=MODEL)
    assert correlation["pairs"][0]["n"] >= 3
    called |= {"get_costs", "get_trends", "get_correlation"}

    set_ = await sdk.set_sla(MODEL, model_version="1", latency_p99_ms=1.0, window_minutes=60)
    assert set_["latency_p99_ms"] == 1.0
    assert [sla["model_name"] for sla in (await sdk.get_slas())["slas"]] == [MODEL]
    assert (await sdk.get_slas(model_name="other"))["slas"] == []
    compliance = await sdk.get_sla_compliance(MODEL, model_version="1")
    assert compliance["versions"][0]["compliant"] is False  # every latency is above 1 ms
    assert isinstance((await sdk.get_sla_breaches(model_name=MODEL, limit=5))["breaches"], list)
    await sdk.delete_sla(MODEL, model_version="1")
    assert (await sdk.get_slas())["slas"] == []
    called |= {"set_sla", "get_slas", "get_sla_compliance", "get_sla_breaches", "delete_sla"}

    report = await sdk.generate_report(format="pdf", period="1h", title="SDK report")
    assert (await sdk.get_report(report["id"]))["title"] == "SDK report"
    assert [r["id"] for r in (await sdk.get_reports(limit=5, offset=0))["reports"]] == [report["id"]]
    content = await sdk.download_report(report["id"])
    assert content.startswith(b"%PDF-") and len(content) == report["size_bytes"]
    called |= {"generate_report", "get_report", "get_reports", "download_report"}

    common = {"get_health", "get_health_live", "get_health_ready", "get_health_deep"}
    assert {e.name for e in endpoints(BusinessMetricsClient)} - common - called == set()


async def test_bad_input_is_a_service_call_error_with_the_services_status(sdk: BusinessMetricsClient) -> None:
    with pytest.raises(ServiceCallError) as unknown:
        await sdk.get_trends("no_such_kpi", period="1h")
    assert unknown.value.status_code == 422 and "predictions" in str(unknown.value)
    with pytest.raises(ServiceCallError) as period:
        await sdk.get_summary(period="yesterday")
    assert period.value.status_code == 422
    with pytest.raises(ServiceCallError) as missing:
        await sdk.download_report(999_999)
    assert missing.value.status_code == 404
