"""Trend and correlation routes: the statistics of KPI series (service/trends.py)."""

from __future__ import annotations

from fastapi import APIRouter

from mlsec.core.openapi import error_responses
from mlsec.services.business_metrics.dependencies import BusinessDep, SessionDep
from mlsec.services.business_metrics.schemas.analytics import (
    ChangePointRead,
    CorrelationKpiQuery,
    CorrelationRead,
    PairRead,
    PearsonRead,
    SeriesPoint,
    ServiceFilter,
    SpearmanRead,
    TrendAnswerRead,
    TrendKpiQuery,
    TrendRead,
)
from mlsec.services.business_metrics.schemas.metrics import (
    ModelNameFilter,
    ModelVersionFilter,
    PeriodDep,
    PeriodRead,
    ResolutionQuery,
)
from mlsec.services.business_metrics.service import kpis, trends
from mlsec.services.business_metrics.service.costs import Prices
from mlsec.services.business_metrics.service.period import resolution_for

router = APIRouter(prefix="/analytics", tags=["analytics"])


@router.get("/trends", response_model=TrendAnswerRead, responses=error_responses(422))
async def get_trends(
    kpi: TrendKpiQuery,
    session: SessionDep,
    business: BusinessDep,
    window: PeriodDep,
    resolution: ResolutionQuery = None,
    model_name: ModelNameFilter = None,
    model_version: ModelVersionFilter = None,
    service: ServiceFilter = None,
) -> TrendAnswerRead:
    """A KPI per bucket, its slope per hour with a 95% interval and p-value, and where its level changed."""
    name = kpis.check_kpi(kpi)
    step = resolution_for(window, resolution)
    answer = await trends.get_trend(
        session,
        name,
        window,
        step,
        model_name=model_name,
        model_version=model_version,
        service=service,
        prices=Prices.from_settings(business.settings),
    )
    fit = answer.trend
    return TrendAnswerRead(
        kpi=name,
        unit=kpis.KPIS[name].unit,
        period=PeriodRead(start=window.start, end=window.end, seconds=window.seconds),
        resolution=step,
        series=[SeriesPoint(start=at, value=value) for at, value in answer.series],
        trend=None if fit is None else TrendRead.model_validate(fit, from_attributes=True),
        change_points=[ChangePointRead.model_validate(p, from_attributes=True) for p in answer.change_points],
    )


@router.get("/correlation", response_model=CorrelationRead, responses=error_responses(422))
async def get_correlation(
    kpi: CorrelationKpiQuery,
    session: SessionDep,
    business: BusinessDep,
    window: PeriodDep,
    resolution: ResolutionQuery = None,
    model_name: ModelNameFilter = None,
    model_version: ModelVersionFilter = None,
    service: ServiceFilter = None,
) -> CorrelationRead:
    """Pearson and Spearman (with p-values) of every pair of the KPIs, on the buckets where both have a value;
    422 when a pair has fewer than 3 such buckets."""
    step = resolution_for(window, resolution)
    pairs = await trends.get_correlation(
        session,
        kpi,
        window,
        step,
        model_name=model_name,
        model_version=model_version,
        service=service,
        prices=Prices.from_settings(business.settings),
    )
    return CorrelationRead(
        period=PeriodRead(start=window.start, end=window.end, seconds=window.seconds),
        resolution=step,
        model_name=model_name,
        model_version=model_version,
        pairs=[
            PairRead(
                a=p.a,
                b=p.b,
                n=p.correlation.n,
                pearson=PearsonRead(r=p.correlation.pearson.value, p_value=p.correlation.pearson.p_value),
                spearman=SpearmanRead(rho=p.correlation.spearman.value, p_value=p.correlation.spearman.p_value),
            )
            for p in pairs
        ],
    )
