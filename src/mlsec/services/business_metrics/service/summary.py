"""The KPI tables: every KPI of a period for the platform, per model version and per service, read once.

`summary` is the body of `/metrics/summary` (and of `/metrics` in JSON) and what reports are built from;
`get_rows` the rows of `/metrics/kpis`; `get_series_rows` the KPI series of `/metrics/export`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from mlsec.services.business_metrics.service.costs import Prices
from mlsec.services.business_metrics.service.kpis import (
    KPIS,
    Rollups,
    Scope,
    Selection,
    compute,
    get_rollups,
    series_of,
    sources_of,
    split,
)
from mlsec.services.business_metrics.service.period import Period, Resolution, resolution_for

MODEL_COLUMNS = (
    "predictions",
    "throughput_per_s",
    "threats_detected",
    "threats_blocked",
    "threat_rate",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_mean_ms",
    "detection_rate",
    "false_positive_rate",
    "cost",
    "cost_per_1k_predictions",
)
SERVICE_COLUMNS = ("availability", "mttr_s", "error_rate", "cpu_seconds", "memory_gib_hours", "cost")


@dataclass(frozen=True)
class Row:
    """Where one KPI value belongs: the platform, a model (version) or a service."""

    kpi: str
    scope: Scope
    model_name: str | None
    model_version: str | None
    service: str | None

    @property
    def selection(self) -> Selection:
        return Selection(self.model_name, self.model_version, self.service)


def versions(data: Rollups) -> list[tuple[str, str]]:
    """The model versions the buckets hold predictions or feedback of."""
    seen = {(b.model_name, b.model_version) for b in data.predictions}
    seen |= {(b.model_name, b.model_version) for b in data.feedback}
    return sorted(seen)


def services(data: Rollups) -> list[str]:
    return sorted({b.service for b in data.services})


def rows_of(kpi: str, data: Rollups, *, model_name: str | None = None, model_version: str | None = None) -> list[Row]:
    """A KPI's rows: the platform's total, then one per model version (per model for event counts) or one per
    service; a model filter keeps only that model's rows (and drops the platform's)."""
    scope = KPIS[kpi].scope
    out = [] if model_name or model_version else [Row(kpi, "platform", None, None, None)]
    if scope == "service":
        return out + [Row(kpi, "service", None, None, name) for name in services(data)]
    if kpi in ("retrains", "promotions", "drift_alerts", "sla_breaches"):
        names = sorted({b.model_name for b in data.events} | {name for name, _ in versions(data)})
        return out + [Row(kpi, "model", name, None, None) for name in names if model_name in (None, name)]
    return out + [
        Row(kpi, "model", name, version, None)
        for name, version in versions(data)
        if model_name in (None, name) and model_version in (None, version)
    ]


async def get_rows(
    db: Any,
    period: Period,
    kpis: Sequence[str],
    prices: Prices,
    *,
    model_name: str | None = None,
    model_version: str | None = None,
) -> list[tuple[Row, float | None]]:
    """Each KPI's value over the period, per row (`rows_of`)."""
    data = await get_rollups(db, period, resolution_for(period), sources_of(kpis))
    return [
        (row, compute(kpi, data, row.selection, prices))
        for kpi in kpis
        for row in rows_of(kpi, data, model_name=model_name, model_version=model_version)
    ]


async def get_series_rows(
    db: Any,
    period: Period,
    resolution: Resolution,
    kpis: Sequence[str],
    prices: Prices,
    *,
    model_name: str | None = None,
    model_version: str | None = None,
) -> list[tuple[Row, list[tuple[datetime, float | None]]]]:
    """Each KPI's series at the resolution, per row (`rows_of`), from one read of the buckets."""
    data = await get_rollups(db, period, resolution, sources_of(kpis))
    buckets = split(data, period, resolution)
    return [
        (row, series_of(kpi, buckets, row.selection, prices))
        for kpi in kpis
        for row in rows_of(kpi, data, model_name=model_name, model_version=model_version)
    ]


def _columns(data: Rollups, selection: Selection, names: Iterable[str], prices: Prices) -> dict[str, float | None]:
    return {name: compute(name, data, selection, prices) for name in names}


async def summary(db: Any, period: Period, prices: Prices) -> dict[str, Any]:
    """Every KPI of the period: platform totals, a row per model version and a row per service."""
    resolution = resolution_for(period)
    data = await get_rollups(db, period, resolution, ("predictions", "services", "feedback", "events"))
    platform = Selection()
    return {
        "period": {"start": period.start, "end": period.end, "seconds": period.seconds},
        "resolution": resolution,
        "prices": asdict(prices),
        "totals": _columns(data, platform, KPIS, prices),
        "models": [
            {"model_name": name, "model_version": version}
            | _columns(data, Selection(name, version), MODEL_COLUMNS, prices)
            for name, version in versions(data)
        ],
        "services": [
            {"service": name} | _columns(data, Selection(service=name), SERVICE_COLUMNS, prices)
            for name in services(data)
        ],
    }
