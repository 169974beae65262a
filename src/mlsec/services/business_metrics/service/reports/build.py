"""A report's content from the stored rollups: the platform's KPIs (the `/metrics/summary` totals), cost per
model version (the `/costs` attribution), SLA compliance and the series the charts draw, all of one period."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.business_metrics.service.costs import Prices, version_usage
from mlsec.services.business_metrics.service.kpis import KPIS, Selection, get_rollups, series_of, split
from mlsec.services.business_metrics.service.period import Period, resolution_for
from mlsec.services.business_metrics.service.reports.content import (
    CHART_KPIS,
    CostRow,
    KpiRow,
    ReportContent,
    Series,
    SlaObjective,
    SlaRow,
)
from mlsec.services.business_metrics.service.slas import get_compliance_all
from mlsec.services.business_metrics.service.summary import summary


def default_title(period: Period) -> str:
    """The title a report gets when its caller gives none: the period it covers."""
    return f"Business metrics {period.start:%Y-%m-%d %H:%M} to {period.end:%Y-%m-%d %H:%M} UTC"


def _finite(value: Any) -> float | None:
    """None for no data, and for a NaN or infinity that JSON could not carry."""
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)


def _unit(kpi: str, prices: Prices) -> str:
    unit = KPIS[kpi].unit
    return prices.currency if unit == "currency" else unit


async def get_slas(session: AsyncSession, period: Period, now: datetime) -> tuple[SlaRow, ...]:
    """The compliance of every model version an SLA applies to, judged over the report's period (the same
    figures as `/slas/{model_name}/compliance?start=...&end=...`)."""
    return tuple(
        SlaRow(
            model_name=row.model_name,
            model_version=row.model_version,
            compliant=row.compliant,
            objectives=tuple(SlaObjective(o.objective, _finite(o.value), o.threshold, o.met) for o in row.objectives),
            breaches=row.breaches,
        )
        for row in await get_compliance_all(session, period, now=now)
    )


async def build(
    session: AsyncSession, period: Period, prices: Prices, *, title: str | None, now: datetime
) -> ReportContent:
    """Everything the report shows, read from the rollups in two reads (the summary's, then predictions and
    services for costs and charts), and the SLA compliance of the period."""
    resolution = resolution_for(period)
    totals = (await summary(session, period, prices))["totals"]
    kpis = tuple(
        KpiRow(name, _unit(name, prices), _finite(value), KPIS[name].description) for name, value in totals.items()
    )
    data = await get_rollups(session, period, resolution, ("predictions", "services"))
    usage = version_usage(data.predictions, data.services, prices)
    costs = tuple(
        CostRow(
            model_name=name,
            model_version=version,
            predictions=part.predictions,
            cpu_seconds=part.cpu_seconds,
            memory_gib_hours=part.memory_gib_hours,
            cost=part.cost,
            cost_per_1k_predictions=part.cost_per_1k,
        )
        for (name, version), part in sorted(usage.items())
    )
    buckets = split(data, period, resolution)
    series = tuple(
        Series(
            kpi,
            _unit(kpi, prices),
            tuple((start, _finite(value)) for start, value in series_of(kpi, buckets, Selection(), prices)),
        )
        for kpi in CHART_KPIS
    )
    return ReportContent(
        title=title or default_title(period),
        period_start=period.start,
        period_end=period.end,
        generated_at=now,
        resolution=resolution,
        currency=prices.currency,
        kpis=kpis,
        costs=costs,
        slas=await get_slas(session, period, now),
        series=series,
    )
