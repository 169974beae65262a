"""The KPIs: their registry (name, unit, formula, scope) and their values over a period or per bucket.

Every KPI is computed from the stored rollups (`service.rollups`) of the period, read once at the coarsest
resolution that fits, and filtered in Python: cost shares need every version's predictions whatever the
selection, and one read serves the many rows of `/metrics/kpis`. docs/business-metrics.md carries the same
formulas for readers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from mlsec.core.errors import InvalidInputError
from mlsec.services.business_metrics.service import rollups
from mlsec.services.business_metrics.service.costs import Prices, selected_usage
from mlsec.services.business_metrics.service.period import Period, Resolution, resolution_for
from mlsec.services.business_metrics.service.rollups import (
    EventBucket,
    FeedbackBucket,
    PredictionBucket,
    ServiceBucket,
)
from mlsec.services.business_metrics.service.sketch import LatencySketch

Scope = Literal["model", "service", "platform"]
Source = Literal["predictions", "services", "feedback", "events"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STEP = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class KpiDefinition:
    """One KPI as the docs and `/metrics/kpis` describe it; `scope` says what its rows are per."""

    name: str
    unit: str
    description: str
    formula: str
    scope: Scope
    sources: tuple[Source, ...]


def _kpi(
    name: str, unit: str, scope: Scope, sources: tuple[Source, ...], description: str, formula: str
) -> KpiDefinition:
    return KpiDefinition(name, unit, description, formula, scope, sources)


_P: tuple[Source, ...] = ("predictions",)
_S: tuple[Source, ...] = ("services",)
_F: tuple[Source, ...] = ("feedback",)
_E: tuple[Source, ...] = ("events",)
_PS: tuple[Source, ...] = ("predictions", "services")

KPIS: dict[str, KpiDefinition] = {
    k.name: k
    for k in (
        _kpi("predictions", "count", "model", _P, "Production predictions served.", "sum(predictions)"),
        _kpi("throughput_per_s", "1/s", "model", _P, "Predictions per second.", "predictions / period seconds"),
        _kpi("threats_detected", "count", "model", _P, "Predictions with a threat label.", "sum(threats)"),
        _kpi(
            "threats_blocked",
            "count",
            "model",
            _P,
            "Threats answered to the caller with the threat label (the platform blocks by answering so).",
            "sum(threats)",
        ),
        _kpi("threat_rate", "ratio", "model", _P, "Share of predictions that were threats.", "threats / predictions"),
        _kpi("detection_rate", "ratio", "model", _F, "Recall on labelled feedback.", "tp / (tp + fn)"),
        _kpi("false_positive_rate", "ratio", "model", _F, "Benign inputs flagged.", "fp / (fp + tn)"),
        _kpi("latency_p50_ms", "ms", "model", _P, "Median prediction latency.", "quantile(merged sketch, 0.50)"),
        _kpi("latency_p95_ms", "ms", "model", _P, "95th percentile latency.", "quantile(merged sketch, 0.95)"),
        _kpi("latency_p99_ms", "ms", "model", _P, "99th percentile latency.", "quantile(merged sketch, 0.99)"),
        _kpi("latency_mean_ms", "ms", "model", _P, "Mean prediction latency.", "sum(latency_ms) / predictions"),
        _kpi(
            "error_rate",
            "ratio",
            "service",
            _S,
            "Failed (5xx) prediction requests of the serving services.",
            "prediction_errors / prediction_requests",
        ),
        _kpi("availability", "ratio", "service", _S, "Share of observed time healthy.", "1 - down_s / observed_s"),
        _kpi("mttr_s", "s", "service", _S, "Mean time to recover from an outage.", "down_s / outages"),
        _kpi("retrains", "count", "model", _E, "Retrains requested.", "count(retrain events)"),
        _kpi("promotions", "count", "model", _E, "Promotions decided.", "count(promotion events)"),
        _kpi("drift_alerts", "count", "model", _E, "Drift alerts raised.", "count(drift_alert events)"),
        _kpi("sla_breaches", "count", "model", _E, "SLA breaches detected.", "count(sla_breach events)"),
        _kpi("cpu_seconds", "s", "service", _S, "CPU time of the services' processes.", "sum(cpu_s)"),
        _kpi("memory_gib_hours", "GiB*h", "service", _S, "Resident memory over time.", "sum(memory_gib_minutes) / 60"),
        _kpi(
            "cost",
            "currency",
            "model",
            _PS,
            "CPU and memory times prices; per model version, its share of its serving services' cost.",
            "cpu_s / 3600 * cpu_price + memory_gib_minutes / 60 * memory_price",
        ),
        _kpi(
            "cost_per_1k_predictions",
            "currency",
            "model",
            _PS,
            "Cost of 1,000 predictions.",
            "cost / predictions * 1000",
        ),
    )
}
EVENT_KIND = {
    "retrains": "retrain",
    "promotions": "promotion",
    "drift_alerts": "drift_alert",
    "sla_breaches": "sla_breach",
}


class UnknownKpiError(InvalidInputError):
    def __init__(self, name: str):
        super().__init__(f"unknown KPI {name[:64]!r}; known: {', '.join(KPIS)}", details={"known": list(KPIS)})


def check_kpi(name: str) -> str:
    """The name when it is a known KPI; else a 422 listing the known ones."""
    if name not in KPIS:
        raise UnknownKpiError(name)
    return name


@dataclass(frozen=True)
class Selection:
    """Which rows a KPI is computed over: a model, a model version, a service (each optional)."""

    model_name: str | None = None
    model_version: str | None = None
    service: str | None = None

    def takes_prediction(self, b: PredictionBucket) -> bool:
        return (
            (self.model_name is None or b.model_name == self.model_name)
            and (self.model_version is None or b.model_version == self.model_version)
            and (self.service is None or b.service == self.service)
        )

    def takes_feedback(self, b: FeedbackBucket) -> bool:
        return (self.model_name is None or b.model_name == self.model_name) and (
            self.model_version is None or b.model_version == self.model_version
        )

    def takes_event(self, b: EventBucket) -> bool:
        return self.model_name is None or b.model_name == self.model_name  # events are per model, not version

    def takes_service(self, b: ServiceBucket) -> bool:
        return self.service is None or b.service == self.service


@dataclass
class Rollups:
    """The buckets a KPI is computed from (every model's and service's), and the seconds they cover."""

    seconds: float
    predictions: list[PredictionBucket] = field(default_factory=list)
    services: list[ServiceBucket] = field(default_factory=list)
    feedback: list[FeedbackBucket] = field(default_factory=list)
    events: list[EventBucket] = field(default_factory=list)


async def get_rollups(db: Any, period: Period, resolution: Resolution, sources: Iterable[Source]) -> Rollups:
    """The period's buckets of the given sources, unfiltered."""
    wanted = set(sources)
    data = Rollups(seconds=period.seconds)
    if "predictions" in wanted:
        data.predictions = await rollups.get_predictions(db, period, resolution)
    if "services" in wanted:
        data.services = await rollups.get_services(db, period, resolution)
    if "feedback" in wanted:
        data.feedback = await rollups.get_feedback(db, period, resolution)
    if "events" in wanted:
        data.events = await rollups.get_events(db, period, resolution)
    return data


def sources_of(kpis: Iterable[str]) -> set[Source]:
    return {source for name in kpis for source in KPIS[name].sources}


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _availability(down_s: float, observed_s: float) -> float | None:
    return 1 - down_s / observed_s if observed_s > 0 else None


def merged_sketch(buckets: Iterable[PredictionBucket]) -> LatencySketch:
    """One sketch of every selected bucket's latencies."""
    return LatencySketch.merged(b.sketch for b in buckets)


def _quantile(q: float) -> Callable[[list[PredictionBucket]], float | None]:
    def compute(rows: list[PredictionBucket]) -> float | None:
        if not any(b.predictions for b in rows):
            return None
        return merged_sketch(rows).quantile(q)

    return compute


_PREDICTION_KPIS: dict[str, Callable[[list[PredictionBucket]], float | None]] = {
    "predictions": lambda rows: float(sum(b.predictions for b in rows)),
    "threats_detected": lambda rows: float(sum(b.threats for b in rows)),
    "threats_blocked": lambda rows: float(sum(b.threats for b in rows)),
    "threat_rate": lambda rows: _ratio(sum(b.threats for b in rows), sum(b.predictions for b in rows)),
    "latency_p50_ms": _quantile(0.50),
    "latency_p95_ms": _quantile(0.95),
    "latency_p99_ms": _quantile(0.99),
    "latency_mean_ms": lambda rows: _ratio(sum(b.latency_ms_sum for b in rows), sum(b.predictions for b in rows)),
}
_SERVICE_KPIS: dict[str, Callable[[list[ServiceBucket]], float | None]] = {
    "error_rate": lambda rows: _ratio(sum(b.prediction_errors for b in rows), sum(b.prediction_requests for b in rows)),
    "availability": lambda rows: _availability(sum(b.down_s for b in rows), sum(b.observed_s for b in rows)),
    "mttr_s": lambda rows: _ratio(sum(b.down_s for b in rows), sum(b.outages for b in rows)),
    "cpu_seconds": lambda rows: float(sum(b.cpu_s for b in rows)),
    "memory_gib_hours": lambda rows: sum(b.memory_gib_minutes for b in rows) / 60,
}
_FEEDBACK_KPIS: dict[str, Callable[[int, int, int, int], float | None]] = {
    "detection_rate": lambda tp, fp, tn, fn: _ratio(tp, tp + fn),
    "false_positive_rate": lambda tp, fp, tn, fn: _ratio(fp, fp + tn),
}


def compute(kpi: str, data: Rollups, selection: Selection, prices: Prices) -> float | None:
    """One KPI over the given buckets and selection; None when it has no denominator (no traffic, no feedback,
    no outage, nothing observed)."""
    if kpi == "throughput_per_s":
        count = sum(b.predictions for b in data.predictions if selection.takes_prediction(b))
        return count / data.seconds if data.seconds > 0 else None
    if kpi in _PREDICTION_KPIS:
        return _PREDICTION_KPIS[kpi]([b for b in data.predictions if selection.takes_prediction(b)])
    if kpi in _SERVICE_KPIS:
        return _SERVICE_KPIS[kpi]([b for b in data.services if selection.takes_service(b)])
    if kpi in _FEEDBACK_KPIS:
        rows = [b for b in data.feedback if selection.takes_feedback(b)]
        return _FEEDBACK_KPIS[kpi](*(sum(getattr(b, c) for b in rows) for c in ("tp", "fp", "tn", "fn")))
    if kpi in EVENT_KIND:
        kind = EVENT_KIND[kpi]
        return float(sum(b.count for b in data.events if b.kind == kind and selection.takes_event(b)))
    usage = selected_usage(
        data.predictions,
        data.services,
        prices,
        model_name=selection.model_name,
        model_version=selection.model_version,
        service=selection.service,
    )
    return usage.cost if kpi == "cost" else usage.cost_per_1k


async def kpi_value(
    db: Any,
    kpi: str,
    period: Period,
    *,
    model_name: str | None = None,
    model_version: str | None = None,
    service: str | None = None,
    prices: Prices,
) -> float | None:
    """One KPI over the whole period (read at the coarsest resolution that fits it)."""
    check_kpi(kpi)
    data = await get_rollups(db, period, resolution_for(period), KPIS[kpi].sources)
    return compute(kpi, data, Selection(model_name, model_version, service), prices)


def bucket_starts(period: Period, resolution: Resolution) -> list[datetime]:
    """The starts of the buckets of a resolution that lie in [period.start, period.end), aligned to the epoch
    (computed without stepping past the period's end, which may be the last representable minute)."""
    step = STEP[resolution]
    ahead = -(period.start - EPOCH) % step  # from the period's start to the next bucket start
    if ahead >= period.end - period.start:
        return []
    first = period.start + ahead
    return [first + i * step for i in range(-(-(period.end - first) // step))]


def split(data: Rollups, period: Period, resolution: Resolution) -> list[tuple[datetime, Rollups]]:
    """The buckets grouped by start, one group per bucket of the period (empty ones included), each with the
    seconds it covers inside the period."""
    step = STEP[resolution]
    groups = {
        start: Rollups(seconds=min(step, period.end - start).total_seconds())  # no start + step: year 9999
        for start in bucket_starts(period, resolution)
    }
    for name in ("predictions", "services", "feedback", "events"):
        by_start: dict[datetime, list[Any]] = defaultdict(list)
        for b in getattr(data, name):
            by_start[b.start].append(b)
        for start, rows in by_start.items():
            if start in groups:
                getattr(groups[start], name).extend(rows)
    return sorted(groups.items())


def series_of(
    kpi: str, buckets: Sequence[tuple[datetime, Rollups]], selection: Selection, prices: Prices
) -> list[tuple[datetime, float | None]]:
    return [(start, compute(kpi, group, selection, prices)) for start, group in buckets]


async def kpi_series(
    db: Any,
    kpi: str,
    period: Period,
    resolution: Resolution,
    *,
    model_name: str | None = None,
    model_version: str | None = None,
    service: str | None = None,
    prices: Prices,
) -> list[tuple[datetime, float | None]]:
    """One KPI per bucket of the period at the resolution, oldest first, a point for every bucket (None where
    the KPI has no denominator there)."""
    check_kpi(kpi)
    data = await get_rollups(db, period, resolution, KPIS[kpi].sources)
    return series_of(kpi, split(data, period, resolution), Selection(model_name, model_version, service), prices)
