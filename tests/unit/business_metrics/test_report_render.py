"""The report renderers on a report content built here: each format carries the same figures, the CSV parses
back to them, the HTML shows them with inline SVG charts, the PDF is a real multi-page document."""

from __future__ import annotations

import csv
import io
import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from mlsec.services.business_metrics.service.reports.content import (
    CostRow,
    KpiRow,
    ReportContent,
    Series,
    SlaObjective,
    SlaRow,
    format_value,
)
from mlsec.services.business_metrics.service.reports.render import render

START = datetime(2026, 3, 1, tzinfo=UTC)
LATENCIES = [12.5, 14.0, 13.25, 80.0, 11.0, 15.5]


def make_content(*, title: str = "Weekly <report> & co", cost_rows: int = 2) -> ReportContent:
    """A report whose figures derive from LATENCIES, so each test recomputes what it expects."""
    hours = [START + timedelta(hours=i) for i in range(len(LATENCIES))]
    predictions = 600 * len(LATENCIES)
    costs = tuple(
        CostRow(
            model_name="detector",
            model_version=str(version),
            predictions=predictions // cost_rows,
            cpu_seconds=36.0 * version,
            memory_gib_hours=0.5 * version,
            cost=0.01 * version,
            cost_per_1k_predictions=0.01 * version / (predictions // cost_rows) * 1000,
        )
        for version in range(1, cost_rows + 1)
    )
    return ReportContent(
        title=title,
        period_start=START,
        period_end=START + timedelta(hours=len(LATENCIES)),
        generated_at=START + timedelta(hours=len(LATENCIES), minutes=1),
        resolution="hour",
        currency="USD",
        kpis=(
            KpiRow("predictions", "count", float(predictions), "predictions served"),
            KpiRow("latency_p99_ms", "ms", max(LATENCIES)),
            KpiRow("latency_mean_ms", "ms", sum(LATENCIES) / len(LATENCIES)),
            KpiRow("detection_rate", "ratio", None),
        ),
        costs=costs,
        slas=(
            SlaRow(
                "detector",
                "1",
                compliant=False,
                objectives=(SlaObjective("latency_p99_ms", max(LATENCIES), 50.0, met=False),),
                breaches=1,
            ),
        ),
        series=(
            Series("throughput_per_s", "1/s", tuple((hour, 600 / 3600) for hour in hours)),
            Series("latency_p99_ms", "ms", tuple(zip(hours, LATENCIES, strict=True))),
            Series(
                "threats_detected", "count", tuple((hour, None if i == 2 else float(i)) for i, hour in enumerate(hours))
            ),
        ),
    )


def test_csv_parses_back_to_the_figures() -> None:
    content = make_content()
    rows = list(csv.DictReader(io.StringIO(render(content, "csv").decode())))
    kpis = {row["name"]: row["value"] for row in rows if row["section"] == "kpi"}
    assert float(kpis["latency_mean_ms"]) == sum(LATENCIES) / len(LATENCIES)
    assert float(kpis["predictions"]) == 600 * len(LATENCIES)
    assert kpis["detection_rate"] == ""  # no data: an empty cell, never a made-up zero
    per_1k = {row["model_version"]: float(row["value"]) for row in rows if row["name"] == "cost_per_1k_predictions"}
    assert per_1k == {cost.model_version: cost.cost_per_1k_predictions for cost in content.costs}
    latency = [float(row["value"]) for row in rows if row["section"] == "series" and row["name"] == "latency_p99_ms"]
    assert latency == LATENCIES
    sla = next(row for row in rows if row["section"] == "sla" and row["name"] == "latency_p99_ms")
    assert (float(sla["value"]), float(sla["threshold"]), sla["met"]) == (80.0, 50.0, "false")
    period = {row["name"]: row["value"] for row in rows if row["section"] == "period"}
    assert datetime.fromisoformat(period["start"]) == content.period_start


def test_json_round_trips() -> None:
    content = make_content()
    body = json.loads(render(content, "json"))
    assert body["period"] == {"start": START.isoformat(), "end": content.period_end.isoformat()}
    assert {kpi["name"]: kpi["value"] for kpi in body["kpis"]}["latency_p99_ms"] == max(LATENCIES)
    assert body["slas"][0]["objectives"][0]["met"] is False
    assert [point["value"] for point in body["series"][1]["points"]] == LATENCIES


def test_html_shows_the_figures_escaped_with_inline_svg_charts() -> None:
    content = make_content()
    page = render(content, "html").decode()
    assert page.startswith("<!DOCTYPE html>")
    assert "Weekly &lt;report&gt; &amp; co" in page and "<report>" not in page
    for kpi in content.kpis:
        assert f'<td class="num">{format_value(kpi.value)}</td>' in page
    assert format_value(sum(LATENCIES) / len(LATENCIES)) in page
    assert page.count("<svg") == 3  # throughput, latency, threats
    assert "<?xml" not in page  # inlined: no prolog in the middle of the page
    assert "missed" in page  # the SLA verdict


def pdf_pages(document: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", document))


def test_pdf_is_a_multi_page_document() -> None:
    document = render(make_content(), "pdf")
    assert document.startswith(b"%PDF")
    assert document.rstrip().endswith(b"%%EOF")
    assert pdf_pages(document) == 4  # title + KPIs, costs, SLAs, charts


def test_pdf_long_tables_continue_on_more_pages() -> None:
    document = render(make_content(cost_rows=40), "pdf")
    assert pdf_pages(document) == 5  # 40 cost rows take two pages


def test_empty_report_still_renders() -> None:
    empty = ReportContent("Empty", START, START + timedelta(days=1), START, "hour", "USD")
    assert pdf_pages(render(empty, "pdf")) == 4
    assert "none in this period" in render(empty, "html").decode()
    assert next(iter(csv.DictReader(io.StringIO(render(empty, "csv").decode()))))["section"] == "period"


@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_renders_in_parallel_threads(fmt: str) -> None:
    """Reports render in worker threads: no figure is shared, so parallel renders give whole documents."""
    contents = [make_content(title=f"report {i}") for i in range(3)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        documents = list(pool.map(lambda content: render(content, fmt), contents))  # type: ignore[arg-type]
    for i, document in enumerate(documents):
        if fmt == "pdf":
            assert pdf_pages(document) == 4
        else:
            assert f"report {i}" in document.decode() and document.decode().count("<svg") == 3
