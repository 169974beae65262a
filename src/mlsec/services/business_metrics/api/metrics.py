"""KPI routes: `/metrics` (Prometheus text for scrapers, the business summary as JSON for people),
`/metrics/summary`, `/metrics/kpis` and `/metrics/export`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from mlsec.core.openapi import error_responses
from mlsec.services.business_metrics.dependencies import BusinessDep, SessionDep
from mlsec.services.business_metrics.schemas.metrics import (
    ExportFormatQuery,
    KpiDefinitionRead,
    KpiQuery,
    KpiRowRead,
    KpiTable,
    MetricsFormatQuery,
    ModelNameFilter,
    ModelVersionFilter,
    PeriodDep,
    ResolutionQuery,
    SummaryRead,
)
from mlsec.services.business_metrics.service import export, summary
from mlsec.services.business_metrics.service.costs import Prices
from mlsec.services.business_metrics.service.kpis import KPIS, check_kpi
from mlsec.services.business_metrics.service.performance import period_read
from mlsec.services.business_metrics.service.period import Period, resolution_for

router = APIRouter(tags=["business metrics"])
JSON_SUMMARY_PERIOD = timedelta(hours=24)


@router.get(
    "/metrics",
    response_model=SummaryRead,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text or the JSON summary."}},
)
async def get_metrics(
    request: Request, session: SessionDep, business: BusinessDep, format: MetricsFormatQuery = None
) -> Response | SummaryRead:
    """JSON (`?format=json` or `Accept: application/json`): the business summary of the last 24 h, as
    `/metrics/summary`. Otherwise this service's Prometheus metrics, so that scrapers keep working."""
    wants_json = format == "json" or (format is None and "application/json" in request.headers.get("accept", ""))
    if not wants_json:
        return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
    now = datetime.now(UTC)
    period = Period(now - JSON_SUMMARY_PERIOD, now)
    return SummaryRead.model_validate(await summary.summary(session, period, Prices.from_settings(business.settings)))


@router.get("/metrics/summary", response_model=SummaryRead, responses=error_responses(422))
async def get_summary(session: SessionDep, business: BusinessDep, period: PeriodDep) -> SummaryRead:
    """Every KPI of the period: the platform's totals, a row per model version and a row per service."""
    return SummaryRead.model_validate(await summary.summary(session, period, Prices.from_settings(business.settings)))


def _kpis(names: list[str] | None) -> list[str]:
    return [check_kpi(name) for name in names] if names else list(KPIS)


@router.get("/metrics/kpis", response_model=KpiTable, responses=error_responses(422))
async def get_kpis(
    session: SessionDep,
    business: BusinessDep,
    period: PeriodDep,
    kpi: KpiQuery = None,
    model_name: ModelNameFilter = None,
    model_version: ModelVersionFilter = None,
) -> KpiTable:
    """The KPIs named (all when none): the platform's total, one row per model version for model KPIs, one per
    service for service KPIs; a model filter keeps that model's rows."""
    names = _kpis(kpi)
    prices = Prices.from_settings(business.settings)
    rows = await summary.get_rows(session, period, names, prices, model_name=model_name, model_version=model_version)
    return KpiTable(
        period=period_read(period),
        resolution=resolution_for(period),
        currency=prices.currency,
        definitions=[
            KpiDefinitionRead(name=d.name, unit=d.unit, description=d.description, formula=d.formula, scope=d.scope)
            for d in (KPIS[name] for name in names)
        ],
        rows=[
            KpiRowRead(
                kpi=row.kpi,
                unit=KPIS[row.kpi].unit,
                scope=row.scope,
                model_name=row.model_name,
                model_version=row.model_version,
                service=row.service,
                value=value,
            )
            for row, value in rows
        ],
    )


@router.get(
    "/metrics/export",
    responses={
        200: {"content": {"text/csv": {}, "application/json": {}, "text/plain": {}}, "description": "The series."},
        **error_responses(422),
    },
)
async def export_metrics(
    session: SessionDep,
    business: BusinessDep,
    period: PeriodDep,
    format: ExportFormatQuery = "csv",
    kpi: KpiQuery = None,
    resolution: ResolutionQuery = None,
    model_name: ModelNameFilter = None,
    model_version: ModelVersionFilter = None,
) -> Response:
    """The KPI series at the resolution as CSV (start, kpi, scope, model_name, model_version, service, value),
    JSON or Prometheus text (each point with its timestamp)."""
    content = await export.get(
        session,
        period,
        resolution,
        _kpis(kpi),
        Prices.from_settings(business.settings),
        format,
        model_name=model_name,
        model_version=model_version,
    )
    suffix = {"csv": "csv", "json": "json", "prometheus": "prom"}[format]
    headers = {"Content-Disposition": f'attachment; filename="business-metrics.{suffix}"'}
    return Response(content, media_type=export.MEDIA_TYPES[format], headers=headers)
