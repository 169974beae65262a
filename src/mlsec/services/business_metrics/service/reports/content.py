"""What a report says, independent of its format: the renderers (JSON, CSV, HTML, PDF) all read this one
object, so the four formats of the same period carry the same figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ReportFormat = Literal["json", "csv", "html", "pdf"]
FORMATS: tuple[ReportFormat, ...] = ("json", "csv", "html", "pdf")
MEDIA_TYPES: dict[ReportFormat, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
CHART_KPIS: tuple[str, ...] = ("throughput_per_s", "latency_p99_ms", "threats_detected")
"""The series a report draws, in the order they appear."""


@dataclass(frozen=True)
class KpiRow:
    """One platform-wide KPI over the whole period (None: no data to compute it from)."""

    name: str
    unit: str
    value: float | None
    description: str = ""


@dataclass(frozen=True)
class CostRow:
    """What one model version cost over the period, and per 1,000 of its predictions."""

    model_name: str
    model_version: str
    predictions: int
    cpu_seconds: float
    memory_gib_hours: float
    cost: float
    cost_per_1k_predictions: float | None


@dataclass(frozen=True)
class SlaObjective:
    """One objective of an SLA: its measured value against its threshold (value None: no data)."""

    objective: str
    value: float | None
    threshold: float
    met: bool | None


@dataclass(frozen=True)
class SlaRow:
    """The SLA compliance of one model version over the period."""

    model_name: str
    model_version: str | None
    compliant: bool | None
    objectives: tuple[SlaObjective, ...] = ()
    breaches: int = 0


@dataclass(frozen=True)
class Series:
    """One KPI over time at the report's resolution (a point's value is None where a bucket had no data)."""

    kpi: str
    unit: str
    points: tuple[tuple[datetime, float | None], ...]


@dataclass(frozen=True)
class ReportContent:
    """Everything one report shows: its period, the KPI table, cost per model version, SLA compliance and the
    series its charts draw."""

    title: str
    period_start: datetime
    period_end: datetime
    generated_at: datetime
    resolution: str
    currency: str
    kpis: tuple[KpiRow, ...] = ()
    costs: tuple[CostRow, ...] = ()
    slas: tuple[SlaRow, ...] = ()
    series: tuple[Series, ...] = field(default=())

    def kpi(self, name: str) -> KpiRow | None:
        """The KPI row of that name, if the report has it."""
        return next((row for row in self.kpis if row.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (ISO 8601 times): the JSON report's body and what the other formats agree with."""
        return {
            "title": self.title,
            "period": {"start": self.period_start.isoformat(), "end": self.period_end.isoformat()},
            "generated_at": self.generated_at.isoformat(),
            "resolution": self.resolution,
            "currency": self.currency,
            "kpis": [vars(row) for row in self.kpis],
            "costs": [vars(row) for row in self.costs],
            "slas": [_sla_dict(row) for row in self.slas],
            "series": [
                {
                    "kpi": series.kpi,
                    "unit": series.unit,
                    "points": [{"start": start.isoformat(), "value": value} for start, value in series.points],
                }
                for series in self.series
            ],
        }


def _sla_dict(row: SlaRow) -> dict[str, Any]:
    return {
        "model_name": row.model_name,
        "model_version": row.model_version,
        "compliant": row.compliant,
        "breaches": row.breaches,
        "objectives": [vars(objective) for objective in row.objectives],
    }


def format_value(value: float | None) -> str:
    """A figure as people read it in the HTML and PDF tables (the CSV and JSON keep full precision)."""
    if value is None:
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.2f}"
    return f"{value:.4g}"
