"""`/metrics/export`: the KPI series of a period at a resolution, as CSV, JSON or Prometheus text.

The Prometheus form carries each point with its timestamp (milliseconds), one gauge per KPI
(`mlsec_business_<kpi>`), for backfilling a Prometheus server or reading with any exposition parser; points
without a value (no denominator in that bucket) are left out there and empty in the CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mlsec.services.business_metrics.schemas.metrics import ExportFormat, ExportRead, ExportRowRead, PeriodRead
from mlsec.services.business_metrics.service.costs import Prices
from mlsec.services.business_metrics.service.kpis import KPIS
from mlsec.services.business_metrics.service.period import Period, Resolution, resolution_for
from mlsec.services.business_metrics.service.summary import Row, get_series_rows

CSV_COLUMNS = ("start", "kpi", "scope", "model_name", "model_version", "service", "value")
METRIC_PREFIX = "mlsec_business_"
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json", "prometheus": "text/plain; version=0.0.4"}
Series = list[tuple[Row, list[tuple[datetime, float | None]]]]


async def get(
    db: Any,
    period: Period,
    resolution: Resolution | None,
    kpis: Sequence[str],
    prices: Prices,
    fmt: ExportFormat,
    *,
    model_name: str | None = None,
    model_version: str | None = None,
) -> bytes:
    """The series of the KPIs per row (platform, model versions, services) rendered in the format."""
    chosen = resolution_for(period, resolution)
    series = await get_series_rows(db, period, chosen, kpis, prices, model_name=model_name, model_version=model_version)
    if fmt == "csv":
        return to_csv(series).encode()
    if fmt == "prometheus":
        return to_prometheus(series)
    return to_read(period, chosen, prices, series).model_dump_json().encode()


def to_read(period: Period, resolution: Resolution, prices: Prices, series: Series) -> ExportRead:
    return ExportRead(
        period=PeriodRead(start=period.start, end=period.end, seconds=period.seconds),
        resolution=resolution,
        currency=prices.currency,
        rows=[
            ExportRowRead(
                start=start,
                kpi=row.kpi,
                unit=KPIS[row.kpi].unit,
                scope=row.scope,
                model_name=row.model_name,
                model_version=row.model_version,
                service=row.service,
                value=value,
            )
            for row, points in series
            for start, value in points
        ],
    )


def to_csv(series: Series) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row, points in series:
        for start, value in points:
            writer.writerow(
                [
                    start.isoformat(),
                    row.kpi,
                    row.scope,
                    row.model_name or "",
                    row.model_version or "",
                    row.service or "",
                    "" if value is None else repr(value),
                ]
            )
    return out.getvalue()


class _SeriesCollector(Collector):
    """Hands prometheus_client's writer one gauge family per KPI, a sample per point with its time."""

    def __init__(self, series: Series):
        self.series = series

    def collect(self) -> Iterator[Metric]:
        families: dict[str, GaugeMetricFamily] = {}
        for row, points in self.series:
            family = families.get(row.kpi)
            if family is None:
                definition = KPIS[row.kpi]
                family = families[row.kpi] = GaugeMetricFamily(
                    METRIC_PREFIX + row.kpi,
                    f"{definition.description} ({definition.unit}; {definition.formula})",
                    labels=["scope", "model_name", "model_version", "service"],
                )
            labels = [row.scope, row.model_name or "", row.model_version or "", row.service or ""]
            for start, value in points:
                if value is not None:
                    family.add_metric(labels, value, timestamp=start.timestamp())
        yield from families.values()


def to_prometheus(series: Series) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SeriesCollector(series))
    return generate_latest(registry)
