"""What the platform costs: CPU seconds and resident memory from each service's process metrics times
configurable prices, and that cost shared among the model versions each serving service answered for.

A service's cost in one bucket is `cpu_s / 3600 * cpu_price_per_hour + memory_gib_minutes / 60 *
memory_price_per_gib_hour`. The serving services' cost is attributed to the versions they served in the same
bucket, by each version's share of that service's predictions there; a bucket in which a service served nothing
stays unattributed (idle cost), counted in the platform's total only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mlsec.services.business_metrics.schemas.costs import CostsRead, CostTotals, ServiceCost, VersionCost
from mlsec.services.business_metrics.schemas.metrics import PeriodRead, PricesRead
from mlsec.services.business_metrics.service import rollups
from mlsec.services.business_metrics.service.period import Period, resolution_for
from mlsec.services.business_metrics.service.rollups import PredictionBucket, ServiceBucket

VersionKey = tuple[str, str]
"""(model_name, model_version)."""


@dataclass(frozen=True)
class Prices:
    """The prices costs are computed with; read from the service's settings so a deployment sets its own."""

    cpu_per_hour: float
    memory_per_gib_hour: float
    currency: str

    @classmethod
    def from_settings(cls, settings: Any) -> Prices:
        """The prices of the business-metrics settings (`cpu_price_per_hour`, `memory_price_per_gib_hour`,
        `currency`)."""
        return cls(
            cpu_per_hour=float(settings.cpu_price_per_hour),
            memory_per_gib_hour=float(settings.memory_price_per_gib_hour),
            currency=str(settings.currency),
        )


@dataclass
class Usage:
    """Resources and their cost, of one service or attributed to one model version."""

    predictions: int = 0
    cpu_seconds: float = 0.0
    memory_gib_hours: float = 0.0
    cost: float = 0.0

    @property
    def cost_per_1k(self) -> float | None:
        """Cost per 1,000 predictions; None without predictions (nothing to divide among)."""
        return self.cost / self.predictions * 1000 if self.predictions else None

    def add(self, *, cpu_seconds: float, memory_gib_hours: float, prices: Prices, share: float = 1.0) -> None:
        cpu, memory = cpu_seconds * share, memory_gib_hours * share
        self.cpu_seconds += cpu
        self.memory_gib_hours += memory
        self.cost += cpu / 3600 * prices.cpu_per_hour + memory * prices.memory_per_gib_hour


def service_cost(bucket: ServiceBucket, prices: Prices) -> float:
    """One service's cost in one bucket."""
    return bucket.cpu_s / 3600 * prices.cpu_per_hour + bucket.memory_gib_minutes / 60 * prices.memory_per_gib_hour


def platform_usage(services: Iterable[ServiceBucket], prices: Prices, *, service: str | None = None) -> Usage:
    """Every observed service's resources and cost (or one service's)."""
    usage = Usage()
    for bucket in services:
        if service is None or bucket.service == service:
            usage.add(cpu_seconds=bucket.cpu_s, memory_gib_hours=bucket.memory_gib_minutes / 60, prices=prices)
    return usage


def version_usage(
    predictions: Iterable[PredictionBucket], services: Iterable[ServiceBucket], prices: Prices
) -> dict[VersionKey, Usage]:
    """Each model version's predictions and its attributed share of its serving services' resources and cost.

    `predictions` must be every version's (unfiltered): a version's share is relative to all the predictions
    its service made in the bucket."""
    served: dict[tuple[datetime, str], dict[VersionKey, int]] = defaultdict(lambda: defaultdict(int))
    usage: dict[VersionKey, Usage] = defaultdict(Usage)
    for bucket in predictions:
        key = (bucket.model_name, bucket.model_version)
        served[(bucket.start, bucket.service)][key] += bucket.predictions
        usage[key].predictions += bucket.predictions
    for sample in services:
        versions = served.get((sample.start, sample.service))
        total = sum(versions.values()) if versions else 0
        if not versions or total == 0:
            continue  # idle: nothing to attribute the cost to
        for key, count in versions.items():
            usage[key].add(
                cpu_seconds=sample.cpu_s,
                memory_gib_hours=sample.memory_gib_minutes / 60,
                prices=prices,
                share=count / total,
            )
    return dict(usage)


def selected_usage(
    predictions: Iterable[PredictionBucket],
    services: Iterable[ServiceBucket],
    prices: Prices,
    *,
    model_name: str | None = None,
    model_version: str | None = None,
    service: str | None = None,
) -> Usage:
    """The usage a KPI's selection names: attributed to matching versions when a model is named, else the
    platform's (or one service's) whole cost with every prediction."""
    if model_name is None and model_version is None:
        usage = platform_usage(services, prices, service=service)
        usage.predictions = sum(b.predictions for b in predictions if service is None or b.service == service)
        return usage
    chosen = [s for s in services if service is None or s.service == service]
    total = Usage()
    for (name, version), part in version_usage(predictions, chosen, prices).items():
        if (model_name is None or name == model_name) and (model_version is None or version == model_version):
            total.cpu_seconds += part.cpu_seconds
            total.memory_gib_hours += part.memory_gib_hours
            total.cost += part.cost
    total.predictions = sum(
        b.predictions
        for b in predictions
        if (model_name is None or b.model_name == model_name)
        and (model_version is None or b.model_version == model_version)
        and (service is None or b.service == service)
    )
    return total


async def get(
    db: Any, period: Period, prices: Prices, *, model_name: str | None = None, model_version: str | None = None
) -> CostsRead:
    """The period's cost: per model version (its attributed share), per service, and the platform's total."""
    resolution = resolution_for(period)
    predictions = await rollups.get_predictions(db, period, resolution)
    services = await rollups.get_services(db, period, resolution)
    total = platform_usage(services, prices)
    total.predictions = sum(b.predictions for b in predictions)
    by_version = version_usage(predictions, services, prices)
    by_service: dict[str, Usage] = defaultdict(Usage)
    for bucket in services:
        by_service[bucket.service].add(
            cpu_seconds=bucket.cpu_s, memory_gib_hours=bucket.memory_gib_minutes / 60, prices=prices
        )
    return CostsRead(
        period=PeriodRead(start=period.start, end=period.end, seconds=period.seconds),
        resolution=resolution,
        prices=PricesRead(
            cpu_per_hour=prices.cpu_per_hour, memory_per_gib_hour=prices.memory_per_gib_hour, currency=prices.currency
        ),
        currency=prices.currency,
        totals=CostTotals(
            predictions=total.predictions,
            cpu_seconds=total.cpu_seconds,
            memory_gib_hours=total.memory_gib_hours,
            cost=total.cost,
            attributed_cost=sum(u.cost for u in by_version.values()),
            cost_per_1k_predictions=total.cost_per_1k,
        ),
        models=[
            VersionCost(
                model_name=name,
                model_version=version,
                predictions=usage.predictions,
                cpu_seconds=usage.cpu_seconds,
                memory_gib_hours=usage.memory_gib_hours,
                cost=usage.cost,
                cost_per_1k_predictions=usage.cost_per_1k,
            )
            for (name, version), usage in sorted(by_version.items())
            if model_name in (None, name) and model_version in (None, version)
        ],
        services=[
            ServiceCost(service=name, cpu_seconds=u.cpu_seconds, memory_gib_hours=u.memory_gib_hours, cost=u.cost)
            for name, u in sorted(by_service.items())
        ],
    )
