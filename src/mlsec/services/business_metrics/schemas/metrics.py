"""Shapes of the KPI answers: `/metrics` (JSON), `/metrics/summary`, `/metrics/kpis`, `/metrics/export`, and the
query parameters every business-metrics route shares (the period, the resolution, a model)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from mlsec.core.limits import NAME_PATTERN, VERSION_PATTERN, UtcDatetime
from mlsec.services.business_metrics.service.period import Period, Resolution, parse_period

PeriodQuery = Annotated[
    str | None,
    Query(max_length=16, description="How far back from now: <number><m|h|d> (15m, 24h, 7d); default 24h."),
]
StartQuery = Annotated[UtcDatetime | None, Query(description="Start of the period (ISO 8601), instead of period.")]
EndQuery = Annotated[UtcDatetime | None, Query(description="End of the period (ISO 8601, exclusive); default now.")]
ResolutionQuery = Annotated[
    Resolution | None, Query(description="Bucket size of series; default the finest that keeps it short.")
]
ModelNameFilter = Annotated[str | None, Query(pattern=NAME_PATTERN, description="Only this registered model.")]
ModelVersionFilter = Annotated[str | None, Query(pattern=VERSION_PATTERN, description="Only this model version.")]
KpiQuery = Annotated[
    list[str] | None, Query(max_length=64, description="KPIs to answer (repeat the parameter); default all.")
]


async def get_period(period: PeriodQuery = None, start: StartQuery = None, end: EndQuery = None) -> Period:
    """The period a request names (`period` back from now, or `start` and `end`); 422 when it is unreadable."""
    return parse_period(period, start, end, now=datetime.now(UTC))


PeriodDep = Annotated[Period, Depends(get_period)]
ExportFormat = Literal["csv", "json", "prometheus"]
ExportFormatQuery = Annotated[ExportFormat, Query(description="csv, json or prometheus (text exposition).")]
MetricsFormatQuery = Annotated[
    Literal["json", "prometheus"] | None,
    Query(description="json: the business summary; default Prometheus text unless Accept asks for JSON."),
]


class PeriodRead(BaseModel):
    start: datetime
    end: datetime = Field(description="Exclusive.")
    seconds: float


class PricesRead(BaseModel):
    cpu_per_hour: float = Field(description="Price of one CPU core for an hour.")
    memory_per_gib_hour: float = Field(description="Price of one GiB of resident memory for an hour.")
    currency: str


class ModelKpis(BaseModel):
    """One model version's KPIs over the period (None: no denominator, e.g. no feedback)."""

    model_name: str
    model_version: str
    predictions: float | None
    throughput_per_s: float | None
    threats_detected: float | None
    threats_blocked: float | None
    threat_rate: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    latency_mean_ms: float | None
    detection_rate: float | None
    false_positive_rate: float | None
    cost: float | None
    cost_per_1k_predictions: float | None


class ServiceKpis(BaseModel):
    """One service's KPIs over the period."""

    service: str
    availability: float | None
    mttr_s: float | None
    error_rate: float | None
    cpu_seconds: float | None
    memory_gib_hours: float | None
    cost: float | None


class SummaryRead(BaseModel):
    """Every KPI of the period: the platform's totals, per model version and per service."""

    period: PeriodRead
    resolution: Resolution = Field(description="The rollups the figures were read from.")
    prices: PricesRead
    totals: dict[str, float | None] = Field(description="Every KPI for the whole platform.")
    models: list[ModelKpis]
    services: list[ServiceKpis]


class KpiDefinitionRead(BaseModel):
    name: str
    unit: str
    description: str
    formula: str
    scope: Literal["model", "service", "platform"] = Field(description="What the KPI's rows are per.")


class KpiRowRead(BaseModel):
    """One KPI's value for the platform, a model (version) or a service."""

    kpi: str
    unit: str
    scope: Literal["model", "service", "platform"]
    model_name: str | None
    model_version: str | None
    service: str | None
    value: float | None


class KpiTable(BaseModel):
    period: PeriodRead
    resolution: Resolution
    currency: str
    definitions: list[KpiDefinitionRead]
    rows: list[KpiRowRead]


class ExportRowRead(KpiRowRead):
    """One point of a KPI's series: the bucket's start and the KPI over that bucket."""

    start: datetime


class ExportRead(BaseModel):
    period: PeriodRead
    resolution: Resolution
    currency: str
    rows: list[ExportRowRead]
