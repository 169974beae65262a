"""The Business page as a manager uses it, in a real chromium against the session's real platform: production
predictions of two versions of a model of the test's own, written as raw records into the running business
metrics service's database (with the CPU and memory of the serving service that answered them and labelled
feedback), show up as that model's rows with the counts, p99, detection rate and cost per 1,000 predictions the
test computes from the same records; an SLA the test sets on one version that its p99 breaks is shown breached;
the trend of the model's predictions is drawn with the slope the service computed; a PDF and a CSV report
generated from the page's form are listed and downloaded through the gateway with their content type, the CSV
holding the model's cost. Screenshot: docs/images/business.png.

The records are the service's own input (what its collector writes after reading the serving services' logs and
metrics), under a serving service name of the test's own so that the platform's real services' CPU, which the
collector keeps adding, is not shared into these versions' cost.
"""

from __future__ import annotations

import asyncio
import csv
import io
import math
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import create_async_engine

from mlsec.services.business_metrics.service.rollups import (
    PredictionSample,
    ServiceSample,
    add_feedback,
    add_predictions,
    add_service_sample,
)
from mlsec.services.business_metrics.settings import DEFAULT_BENIGN_LABELS, BusinessMetricsSettings
from tests.browser.conftest import IMAGES, Pages, sign_in
from tests.platform_support import Platform, platform_settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
SERVING = "browser-serving"  # the serving service the records name: nothing else of the platform reports under it
PRICES = BusinessMetricsSettings()  # the platform runs with the default prices
THREAT, BENIGN = "injection", "benign"


@dataclass(frozen=True)
class Minute:
    """One minute of one version's traffic and of its serving service's process metrics."""

    version: str
    ago: int  # minutes before now
    predictions: int
    threats: int
    cpu_s: float
    memory_gib: float


MINUTES = (
    Minute("1", 7, 10, 7, 4.0, 0.50),
    Minute("1", 6, 14, 10, 5.5, 0.50),
    Minute("1", 5, 16, 13, 6.0, 0.55),
    Minute("2", 4, 8, 2, 1.0, 0.25),
    Minute("2", 3, 12, 3, 2.0, 0.25),
)
FEEDBACK = {"1": {"tp": 8, "fp": 2, "tn": 6, "fn": 2}, "2": {"tp": 3, "fp": 1, "tn": 9, "fn": 0}}


def _latencies(minute: Minute) -> list[float]:
    """Latencies that differ per minute and version, so p99 depends on which records are counted."""
    base = 4.0 if minute.version == "1" else 20.0
    return [base + 0.75 * i + minute.ago for i in range(minute.predictions)]


def _at(now: datetime, ago: int) -> datetime:
    return now.replace(second=30, microsecond=0) - timedelta(minutes=ago)


async def _write(url: str, model: str, now: datetime) -> None:
    engine = create_async_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    try:
        async with engine.begin() as conn:
            for minute in MINUTES:
                at = _at(now, minute.ago)
                labels = [THREAT] * minute.threats + [BENIGN] * (minute.predictions - minute.threats)
                samples = [
                    PredictionSample(at, SERVING, model, minute.version, label, latency)
                    for label, latency in zip(labels, _latencies(minute), strict=True)
                ]
                await add_predictions(conn, samples, DEFAULT_BENIGN_LABELS)
                sample = ServiceSample(healthy=True, interval_s=60.0, cpu_s=minute.cpu_s, memory_gib=minute.memory_gib)
                await add_service_sample(conn, SERVING, at, sample)
            for version, counts in FEEDBACK.items():
                await add_feedback(conn, _at(now, 5), model, version, **counts)
    finally:
        await engine.dispose()


def _expected(version: str) -> dict[str, float]:
    """The version's figures computed here from the records written (each minute's service cost is the
    version's alone: one version per minute)."""
    minutes = [m for m in MINUTES if m.version == version]
    latencies = sorted(x for m in minutes for x in _latencies(m))
    cpu = sum(m.cpu_s for m in minutes)
    memory_gib_hours = sum(m.memory_gib * 60 / 60 for m in minutes) / 60
    cost = cpu / 3600 * PRICES.cpu_price_per_hour + memory_gib_hours * PRICES.memory_price_per_gib_hour
    predictions = sum(m.predictions for m in minutes)
    feedback = FEEDBACK[version]
    return {
        "predictions": predictions,
        "threats": sum(m.threats for m in minutes),
        "p99": latencies[math.floor(0.99 * (len(latencies) - 1))],  # the service's rank: q * (n - 1), rounded down
        "detection": feedback["tp"] / (feedback["tp"] + feedback["fn"]),
        "fpr": feedback["fp"] / (feedback["fp"] + feedback["tn"]),
        "cpu": cpu,
        "cost": cost,
        "per_1k": cost / predictions * 1000,
    }


def _value(page: Page, selector: str) -> float:
    raw = page.locator(selector).get_attribute("data-value")
    assert raw is not None, f"{selector} shows no figure"
    return float(raw)


def _generate(page: Page, fmt: str, title: str) -> str:
    """Generate a report from the page's form; the id of its row once the list shows it."""
    page.select_option("#report-format", fmt)
    page.fill("#report-title", title)
    page.click("#report-submit")
    expect(page.locator("#report-status")).to_contain_text("generated", timeout=120_000)
    row = page.locator("#report-table tbody tr", has_text=title).first
    expect(row).to_have_attribute("data-format", fmt)
    report_id = row.get_attribute("data-report-id")
    assert report_id
    return report_id


def test_the_business_page_shows_the_figures_of_the_records_loaded(
    pages: Pages, admin_key: str, api: httpx.Client, shared_platform: Platform
) -> None:
    model = f"browser-business-{uuid.uuid4().hex[:8]}"
    url = platform_settings(shared_platform.env).database_url_for("business-metrics")
    with ThreadPoolExecutor(1) as writer:  # Playwright's sync API runs its own event loop in this thread
        writer.submit(asyncio.run, _write(url, model, datetime.now(UTC))).result()
    one, two = _expected("1"), _expected("2")
    sla = api.put(f"/api/business-metrics/slas/{model}", json={"model_version": "1", "latency_p99_ms": one["p99"] / 2})
    assert sla.status_code in (200, 201), sla.text

    page = pages.page()
    sign_in(page, api_key=admin_key)
    page.goto("/ui/business")
    expect(page.locator('main[data-page="business"]')).to_be_visible()
    page.select_option("#business-period", "1h")
    expect(page.locator("#business-page")).to_have_attribute("data-loaded", "true", timeout=30_000)
    for version, expected in (("1", one), ("2", two)):
        row = f'#version-table tr[data-model="{model}"][data-version="{version}"]'
        expect(page.locator(row)).to_be_visible(timeout=30_000)
        assert _value(page, f"{row} .predictions") == expected["predictions"]
        assert _value(page, f"{row} .threats") == expected["threats"]
        assert _value(page, f"{row} .p99") == pytest.approx(expected["p99"], rel=0.011)  # the sketch's 1%
        assert _value(page, f"{row} .detection") == pytest.approx(expected["detection"])
        assert _value(page, f"{row} .fpr") == pytest.approx(expected["fpr"])
        assert _value(page, f"{row} .cpu") == pytest.approx(expected["cpu"])
        assert _value(page, f"{row} .cost") == pytest.approx(expected["cost"], rel=1e-6)
        assert _value(page, f"{row} .per-1k") == pytest.approx(expected["per_1k"], rel=1e-6)
    rows = page.locator("#version-table tbody tr .predictions").evaluate_all(
        "cells => cells.map(cell => Number(cell.dataset.value || 0))"
    )
    total = _value(page, '.kpi-tile[data-kpi="predictions"] .kpi-value')
    assert total == sum(rows) and total >= one["predictions"] + two["predictions"]
    expect(page.locator("#business-empty")).to_be_hidden()
    expect(page.locator("#business-error")).to_be_hidden()

    breached = page.locator(f'#sla-table tr[data-model="{model}"][data-version="1"]')
    expect(breached).to_have_attribute("data-compliant", "false", timeout=15_000)
    objective = breached.locator('.objective[data-objective="latency_p99_ms"]')
    expect(objective).to_have_attribute("data-met", "false")

    page.select_option("#trend-model", model)
    page.select_option("#trend-kpi", "predictions")
    summary = page.locator("#trend-summary")
    expect(summary).to_have_attribute("data-slope", re.compile(r".+"), timeout=15_000)
    trend = api.get(
        "/api/business-metrics/analytics/trends", params={"kpi": "predictions", "model_name": model, "period": "1h"}
    ).json()
    assert float(summary.get_attribute("data-slope") or "nan") == pytest.approx(trend["trend"]["slope_per_hour"])
    assert int(page.locator("#trend-chart").get_attribute("data-points") or 0) >= len(MINUTES)
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(IMAGES / "business.png"), full_page=False)

    pdf_id = _generate(page, "pdf", f"{model} pdf")
    with page.expect_download() as download:
        page.click(f'#report-table tr[data-report-id="{pdf_id}"] .report-download')
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    relayed = api.get(f"/api/business-metrics/reports/{pdf_id}/download")
    assert relayed.status_code == 200 and relayed.headers["content-type"] == "application/pdf"
    assert relayed.content.startswith(b"%PDF-")

    csv_id = _generate(page, "csv", f"{model} csv")
    relayed = api.get(f"/api/business-metrics/reports/{csv_id}/download")
    assert relayed.status_code == 200 and relayed.headers["content-type"].startswith("text/csv")
    figures = {
        (row["model_version"], row["name"]): float(row["value"])
        for row in csv.DictReader(io.StringIO(relayed.text))
        if row["section"] == "cost" and row["model_name"] == model
    }
    assert figures[("1", "predictions")] == one["predictions"]
    assert figures[("1", "cost_per_1k_predictions")] == pytest.approx(one["per_1k"], rel=1e-6)
