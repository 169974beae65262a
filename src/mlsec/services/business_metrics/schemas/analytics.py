"""Trend and correlation answers: a KPI's series with its slope, interval and change points; pairs of KPIs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, Field

from mlsec.services.business_metrics.schemas.metrics import PeriodRead
from mlsec.services.business_metrics.service.period import Resolution

TrendKpiQuery = Annotated[str, Query(max_length=64, description="The KPI (see /metrics/kpis for the names).")]
CorrelationKpiQuery = Annotated[
    list[str], Query(min_length=2, max_length=8, description="Two to eight KPIs (repeat the parameter).")
]
ServiceFilter = Annotated[str | None, Query(max_length=64, description="Only this service (service-scoped KPIs).")]


class SeriesPoint(BaseModel):
    start: datetime
    value: float | None = Field(description="None: nothing to measure in the bucket (left out of the statistics).")


class TrendRead(BaseModel):
    """Least squares of value on time; the interval is slope +- t(0.975, n - 2) x its standard error."""

    slope_per_hour: float = Field(description="KPI units per hour.")
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float | None = Field(description="Two-sided test of a zero slope; None for a constant series.")
    direction: Literal["up", "down", "flat"] = Field(description="up or down only when p < 1 - confidence.")
    points: int = Field(description="Buckets with a value.")


class ChangePointRead(BaseModel):
    at: datetime = Field(description="Start of the first bucket of the new level.")
    mean_before: float
    mean_after: float
    p_value: float = Field(description="Welch's t-test of the split, Bonferroni-corrected for the splits tried.")


class TrendAnswerRead(BaseModel):
    kpi: str
    unit: str
    period: PeriodRead
    resolution: Resolution
    series: list[SeriesPoint]
    trend: TrendRead | None = Field(description="None with fewer than 3 buckets that have a value.")
    change_points: list[ChangePointRead]


class CoefficientRead(BaseModel):
    p_value: float | None = Field(description="Two-sided; None when a series is constant.")


class PearsonRead(CoefficientRead):
    r: float | None


class SpearmanRead(CoefficientRead):
    rho: float | None


class PairRead(BaseModel):
    a: str
    b: str
    n: int = Field(description="Buckets where both KPIs have a value.")
    pearson: PearsonRead
    spearman: SpearmanRead


class CorrelationRead(BaseModel):
    period: PeriodRead
    resolution: Resolution
    model_name: str | None
    model_version: str | None
    pairs: list[PairRead]
