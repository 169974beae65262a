"""The CSV report: one long table (one figure per row) that a spreadsheet or `csv.DictReader` reads without
knowing the report's sections, and that keeps every figure at full precision."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from mlsec.services.business_metrics.service.reports.content import ReportContent

COLUMNS = ("section", "name", "model_name", "model_version", "start", "unit", "value", "threshold", "met")
"""section: kpi | cost | sla | series. name: the KPI, cost figure or SLA objective. start: a series point's
bucket start. threshold and met: an SLA objective's. Empty cells where a column does not apply (or no data)."""

Row = tuple[str, str, str, str, str, str, object, object, object]


def render(content: ReportContent) -> bytes:
    """The report as UTF-8 CSV with a header row (COLUMNS), the period in the first rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in _rows(content):
        writer.writerow(["" if cell is None else _cell(cell) for cell in row])
    return buffer.getvalue().encode()


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _rows(content: ReportContent) -> Iterator[Row]:
    yield ("period", "start", "", "", "", "", content.period_start.isoformat(), None, None)
    yield ("period", "end", "", "", "", "", content.period_end.isoformat(), None, None)
    yield ("period", "resolution", "", "", "", "", content.resolution, None, None)
    for kpi in content.kpis:
        yield ("kpi", kpi.name, "", "", "", kpi.unit, kpi.value, None, None)
    for cost in content.costs:
        figures: dict[str, tuple[str, object]] = {
            "predictions": ("count", cost.predictions),
            "cpu_seconds": ("s", cost.cpu_seconds),
            "memory_gib_hours": ("GiB*h", cost.memory_gib_hours),
            "cost": (content.currency, cost.cost),
            "cost_per_1k_predictions": (content.currency, cost.cost_per_1k_predictions),
        }
        for name, (unit, value) in figures.items():
            yield ("cost", name, cost.model_name, cost.model_version, "", unit, value, None, None)
    for sla in content.slas:
        version = sla.model_version or ""
        yield ("sla", "compliant", sla.model_name, version, "", "", sla.compliant, None, None)
        yield ("sla", "breaches", sla.model_name, version, "", "count", sla.breaches, None, None)
        for objective in sla.objectives:
            row = (objective.objective, sla.model_name, version, "", "", objective.value)
            yield ("sla", *row, objective.threshold, objective.met)
    for series in content.series:
        for start, value in series.points:
            yield ("series", series.kpi, "", "", start.isoformat(), series.unit, value, None, None)
