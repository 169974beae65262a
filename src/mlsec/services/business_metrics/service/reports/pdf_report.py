"""The PDF report, drawn with matplotlib's PdfPages (no other dependency): a title page with the period and the
KPI table, then cost per model version, SLA compliance, and the throughput, latency and threat charts."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from mlsec.services.business_metrics.service.reports.charts import draw_series
from mlsec.services.business_metrics.service.reports.content import ReportContent, format_value
from mlsec.services.business_metrics.service.reports.html_report import period_text

PAGE = (8.27, 11.69)  # A4 portrait, inches
ROWS_PER_PAGE = 32
HEADER_COLOR = "#e5e7eb"


def render(content: ReportContent) -> bytes:
    """The report as PDF bytes; always at least a title page and a chart page."""
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": content.title, "Creator": "mlsec business-metrics"}) as pdf:
        for figure in _pages(content):
            pdf.savefig(figure)
    return buffer.getvalue()


def _pages(content: ReportContent) -> Iterator[Figure]:
    kpi_rows = [(kpi.name, format_value(kpi.value), kpi.unit) for kpi in content.kpis]
    yield from _table_pages("Key figures", ("KPI", "Value", "Unit"), kpi_rows, content=content, title_page=True)
    cost_rows = [
        (
            row.model_name,
            row.model_version,
            format_value(row.predictions),
            format_value(row.cpu_seconds),
            format_value(row.memory_gib_hours),
            format_value(row.cost),
            format_value(row.cost_per_1k_predictions),
        )
        for row in content.costs
    ]
    headers = ("Model", "Version", "Predictions", "CPU s", "GiB*h", "Cost", "Per 1k")
    yield from _table_pages(f"Cost per model version ({content.currency})", headers, cost_rows, content=content)
    sla_rows = [
        (
            sla.model_name,
            sla.model_version or "every version",
            objective.objective,
            format_value(objective.value),
            format_value(objective.threshold),
            "n/a" if objective.met is None else ("met" if objective.met else "missed"),
            str(sla.breaches),
        )
        for sla in content.slas
        for objective in sla.objectives
    ]
    headers = ("Model", "Version", "Objective", "Measured", "Threshold", "Verdict", "Breaches")
    yield from _table_pages("SLA compliance", headers, sla_rows, content=content)
    yield _charts_page(content)


def _table_pages(
    heading: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    content: ReportContent,
    title_page: bool = False,
) -> Iterator[Figure]:
    """One table over as many pages as its rows need (ROWS_PER_PAGE each); the first page of the report carries
    the title and the period above its table."""
    chunks = [rows[i : i + ROWS_PER_PAGE] for i in range(0, len(rows), ROWS_PER_PAGE)] or [[]]
    for number, chunk in enumerate(chunks):
        figure = Figure(figsize=PAGE)
        top = 0.95
        if title_page and number == 0:
            figure.text(0.08, 0.95, content.title, fontsize=18, weight="bold", va="top")
            figure.text(0.08, 0.91, period_text(content), fontsize=9, va="top", color="#4b5563")
            top = 0.86
        suffix = f" (continued, {number + 1}/{len(chunks)})" if number else ""
        figure.text(0.08, top, heading + suffix, fontsize=13, weight="bold", va="top")
        axes = figure.add_axes((0.08, 0.05, 0.84, top - 0.08))
        axes.axis("off")
        if chunk:
            height = min(1.0, (len(chunk) + 1) * 0.028)
            table = axes.table(
                cellText=[list(row) for row in chunk],
                colLabels=list(headers),
                loc="upper left",
                bbox=Bbox.from_bounds(0.0, 1.0 - height, 1.0, height),
                colColours=[HEADER_COLOR] * len(headers),
            )
            table.auto_set_font_size(False)
            table.set_fontsize(8)
        else:
            axes.text(0.0, 0.97, "none in this period", fontsize=10, va="top")
        yield figure


def _charts_page(content: ReportContent) -> Figure:
    figure = Figure(figsize=PAGE, layout="constrained")
    figure.suptitle("Trends", x=0.08, ha="left", fontsize=13, weight="bold")
    count = max(1, len(content.series))
    for index, series in enumerate(content.series):
        draw_series(figure.add_subplot(count, 1, index + 1), series)
    if not content.series:
        figure.text(0.5, 0.5, "no series in this report", ha="center")
    return figure
