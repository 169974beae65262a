"""Shape of `/costs`: what the platform's services cost over a period, and each model version's share."""

from __future__ import annotations

from pydantic import BaseModel, Field

from mlsec.services.business_metrics.schemas.metrics import PeriodRead, PricesRead
from mlsec.services.business_metrics.service.period import Resolution


class VersionCost(BaseModel):
    """A model version's share of its serving services' resources, by its share of their predictions."""

    model_name: str
    model_version: str
    predictions: int
    cpu_seconds: float
    memory_gib_hours: float
    cost: float
    cost_per_1k_predictions: float | None = Field(description="cost / predictions * 1000; null without predictions.")


class ServiceCost(BaseModel):
    service: str
    cpu_seconds: float
    memory_gib_hours: float
    cost: float


class CostTotals(BaseModel):
    predictions: int
    cpu_seconds: float
    memory_gib_hours: float
    cost: float = Field(description="Every observed service's cost.")
    attributed_cost: float = Field(description="The part shared among model versions (serving while serving).")
    cost_per_1k_predictions: float | None = Field(description="The platform's cost / predictions * 1000.")


class CostsRead(BaseModel):
    period: PeriodRead
    resolution: Resolution
    prices: PricesRead
    currency: str
    totals: CostTotals
    models: list[VersionCost]
    services: list[ServiceCost]
