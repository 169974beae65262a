"""Reports through the HTTP API: generated from raw records loaded into the store, their figures checked
against the same figures computed here; listed, read, downloaded with their media type; bad input refused;
the daily report on its schedule, once per day across restarts, and retention."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mlsec.core.settings import Settings
from mlsec.services.business_metrics.app import create_app
from mlsec.services.business_metrics.service.reports.content import format_value
from mlsec.services.business_metrics.service.rollups import PredictionSample, ServiceSample
from mlsec.services.business_metrics.service.schedule import report_after_collect
from mlsec.services.business_metrics.state import BusinessMetrics
from tests.api.business_metrics.conftest import FeedbackRecord, business_settings, prediction, start

pytestmark = pytest.mark.anyio

CPU_PRICE = 0.0475
MEMORY_PRICE = 0.0050
MINUTES = 10
MEMORY_GIB = 0.5
SLA_P99_MS = 50.0


def period_start() -> datetime:
    """An hour that ended two hours ago: minute resolution, inside every retention."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)


def traffic(t0: datetime) -> list[PredictionSample]:
    """Each minute: three predictions of version 1 and one of version 2, latencies spread (two of version 1
    slow, past its SLA), every third a threat; one prediction just before and one just after the hour, which
    the report must leave out."""
    samples = []
    for minute in range(MINUTES):
        for i in range(4):
            n = minute * 4 + i
            samples.append(
                prediction(
                    t0 + timedelta(minutes=minute, seconds=i * 10),
                    model_version="1" if i < 3 else "2",
                    label="1" if n % 3 == 0 else "0",
                    latency_ms=5.0 + (n * 7) % 40 + (200.0 if n in (17, 21) else 0.0),
                )
            )
    outside = [prediction(t0 - timedelta(seconds=1)), prediction(t0 + timedelta(hours=1))]
    return samples + outside


def cpu_seconds(minute: int) -> float:
    return 1.5 + minute * 0.1


def expected(t0: datetime) -> dict[str, Any]:
    """The report's figures from the raw records above, by the formulas of docs/business-metrics.md."""
    inside = [s for s in traffic(t0) if t0 <= s.at < t0 + timedelta(hours=1)]
    latencies = sorted(s.latency_ms for s in inside)
    version_1 = sorted(s.latency_ms for s in inside if s.model_version == "1")
    cost = {"1": 0.0, "2": 0.0}
    for minute in range(MINUTES):
        service_cost = cpu_seconds(minute) / 3600 * CPU_PRICE + MEMORY_GIB * 60 / 60 / 60 * MEMORY_PRICE
        cost["1"] += service_cost * 3 / 4
        cost["2"] += service_cost * 1 / 4
    counts = {"1": 3 * MINUTES, "2": MINUTES}
    return {
        "predictions": len(inside),
        "throughput_per_s": len(inside) / 3600,
        "threats_detected": sum(s.label == "1" for s in inside),
        "latency_p99_ms": latencies[math.floor(0.99 * (len(latencies) - 1))],
        "latency_p99_ms_v1": version_1[math.floor(0.99 * (len(version_1) - 1))],
        "detection_rate": 8 / (8 + 2),
        "false_positive_rate": 1 / (1 + 9),
        "cost_per_1k": {version: cost[version] / counts[version] * 1000 for version in cost},
    }


Loader = Callable[..., Awaitable[None]]


async def load_hour(
    t0: datetime, load_predictions: Loader, load_service_samples: Loader, load_feedback: Loader
) -> None:
    await load_predictions(traffic(t0))
    probes = [
        (
            t0 + timedelta(minutes=m, seconds=30),
            ServiceSample(True, 60.0, True, cpu_s=cpu_seconds(m), memory_gib=MEMORY_GIB),
        )
        for m in range(MINUTES)
    ]
    await load_service_samples("model-api", probes)
    await load_feedback([FeedbackRecord(t0 + timedelta(minutes=5), tp=8, fn=2, fp=1, tn=9)])


async def generate(
    client: httpx.AsyncClient, t0: datetime, fmt: str, **extra: Any
) -> tuple[dict[str, Any], httpx.Response]:
    body = {"format": fmt, "start": t0.isoformat(), "end": (t0 + timedelta(hours=1)).isoformat(), **extra}
    answer = await client.post("/reports/generate", json=body)
    assert answer.status_code == 201, answer.text
    meta = answer.json()
    download = await client.get(meta["download_url"])
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment;")
    assert len(download.content) == meta["size_bytes"]
    return meta, download


async def test_reports_carry_the_figures_of_the_raw_records(
    client: httpx.AsyncClient, load_predictions: Loader, load_service_samples: Loader, load_feedback: Loader
) -> None:
    t0 = period_start()
    await load_hour(t0, load_predictions, load_service_samples, load_feedback)
    want = expected(t0)
    sla = await client.put("/slas/detector", json={"model_version": "1", "latency_p99_ms": SLA_P99_MS})
    assert sla.status_code == 201, sla.text

    meta, download = await generate(client, t0, "csv", title="Hourly review")
    assert (meta["format"], meta["title"], meta["trigger"]) == ("csv", "Hourly review", "request")
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["content-disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(download.text)))
    kpis = {row["name"]: row["value"] for row in rows if row["section"] == "kpi"}
    assert int(float(kpis["predictions"])) == want["predictions"]
    assert float(kpis["throughput_per_s"]) == pytest.approx(want["throughput_per_s"])
    assert int(float(kpis["threats_detected"])) == want["threats_detected"]
    assert float(kpis["latency_p99_ms"]) == pytest.approx(want["latency_p99_ms"], rel=0.01)  # the sketch's accuracy
    assert float(kpis["detection_rate"]) == pytest.approx(want["detection_rate"])
    assert float(kpis["false_positive_rate"]) == pytest.approx(want["false_positive_rate"])
    per_1k = {
        row["model_version"]: float(row["value"])
        for row in rows
        if row["section"] == "cost" and row["name"] == "cost_per_1k_predictions"
    }
    assert per_1k == pytest.approx(want["cost_per_1k"])
    sla_rows = {row["name"]: row for row in rows if row["section"] == "sla" and row["model_version"] == "1"}
    assert sla_rows["compliant"]["value"] == "false"  # the slow requests of version 1 break its p99 objective
    objective = sla_rows["latency_p99_ms"]
    assert float(objective["value"]) == pytest.approx(want["latency_p99_ms_v1"], rel=0.01)
    assert (float(objective["threshold"]), objective["met"]) == (SLA_P99_MS, "false")
    throughput = [row for row in rows if row["section"] == "series" and row["name"] == "throughput_per_s"]
    assert len(throughput) == 60  # one point per minute of the hour
    assert [float(row["value"]) for row in throughput[:MINUTES]] == pytest.approx([4 / 60] * MINUTES)

    meta, download = await generate(client, t0, "json")
    body = download.json()
    assert download.headers["content-type"] == "application/json"
    assert {k["name"]: k["value"] for k in body["kpis"]}["predictions"] == want["predictions"]
    assert body["period"]["start"] == t0.isoformat()

    _, download = await generate(client, t0, "html")
    page = download.text
    assert download.headers["content-type"].startswith("text/html")
    assert page.count("<svg") == 3  # throughput, latency and threats over the hour
    assert "<td>latency_p99_ms</td>" in page and "missed" in page  # the SLA table
    assert format_value(want["predictions"]) in page
    assert format_value(want["detection_rate"]) in page
    for version, value in want["cost_per_1k"].items():
        assert f"<td>{version}</td>" in page and format_value(value) in page

    meta, download = await generate(client, t0, "pdf")
    assert download.headers["content-type"] == "application/pdf"
    assert download.content.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", download.content)) > 1


async def test_reports_are_listed_newest_first_and_read_back(client: httpx.AsyncClient) -> None:
    ids = [
        (await client.post("/reports/generate", json={"format": "csv", "period": "1h"})).json()["id"] for _ in range(3)
    ]
    listed = (await client.get("/reports", params={"limit": 2})).json()
    assert listed["total"] == 3
    assert [r["id"] for r in listed["reports"]] == ids[::-1][:2]
    rest = (await client.get("/reports", params={"limit": 2, "offset": 2})).json()
    assert [r["id"] for r in rest["reports"]] == [ids[0]]
    one = (await client.get(f"/reports/{ids[1]}")).json()
    assert one["id"] == ids[1] and one["media_type"].startswith("text/csv")
    assert datetime.fromisoformat(one["period_end"]) - datetime.fromisoformat(one["period_start"]) == timedelta(hours=1)
    assert "content" not in one


async def test_unknown_reports_are_404(client: httpx.AsyncClient) -> None:
    for path in ("/reports/999999", "/reports/999999/download"):
        answer = await client.get(path)
        assert answer.status_code == 404
        assert answer.json()["error"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"format": "docx"},
        {"format": "pdf", "period": "yesterday"},
        {"format": "pdf", "period": "401d"},
        {"format": "csv", "start": "2026-01-01T00:00:00Z", "end": "2027-03-01T00:00:00Z"},  # > 400 days
        {"format": "csv", "start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        {"format": "csv", "period": "1h", "start": "2026-01-01T00:00:00Z"},
        {"format": "csv", "title": ""},
        {"format": "csv", "unknown": 1},
    ],
)
async def test_bad_requests_are_422_and_store_nothing(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    answer = await client.post("/reports/generate", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] is True
    assert (await client.get("/reports")).json()["total"] == 0


async def stored(app: FastAPI) -> list[dict[str, Any]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return list((await http.get("/reports")).json()["reports"])


async def test_daily_report_once_per_day_across_restarts(backend_settings: Settings) -> None:
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    async for app in start(create_app(backend_settings, business_settings(daily_report_hour_utc=6))):
        business: BusinessMetrics = app.state.business
        await report_after_collect(business, day + timedelta(hours=5, minutes=59))
        assert await stored(app) == []  # before the hour
        await report_after_collect(business, day + timedelta(hours=6, minutes=1))
        await report_after_collect(business, day + timedelta(hours=7))
        reports = await stored(app)
        assert [(r["trigger"], r["format"]) for r in reports] == [("schedule", "pdf")]
        assert datetime.fromisoformat(reports[0]["period_start"]) == day - timedelta(days=1)
        assert datetime.fromisoformat(reports[0]["period_end"]) == day
    async for app in start(create_app(backend_settings, business_settings(daily_report_hour_utc=6))):
        await report_after_collect(app.state.business, day + timedelta(hours=8))  # restarted: already done
        assert len(await stored(app)) == 1
        await report_after_collect(app.state.business, day + timedelta(days=1, hours=6))  # the next day's
        assert [r["period_start"][:10] for r in await stored(app)] == [
            f"{day:%Y-%m-%d}",
            f"{day - timedelta(days=1):%Y-%m-%d}",
        ]


async def test_no_daily_report_unless_configured_and_old_reports_expire(
    client: httpx.AsyncClient, business: BusinessMetrics
) -> None:
    made = (await client.post("/reports/generate", json={"format": "json", "period": "15m"})).json()
    now = datetime.fromisoformat(made["created_at"])
    await report_after_collect(business, now + timedelta(days=business.settings.report_retention_days - 1))
    assert [r["id"] for r in (await client.get("/reports")).json()["reports"]] == [made["id"]]  # kept, none added
    await report_after_collect(business, now + timedelta(days=business.settings.report_retention_days, seconds=1))
    assert (await client.get("/reports")).json()["total"] == 0
    assert (await client.get(f"/reports/{made['id']}")).status_code == 404
