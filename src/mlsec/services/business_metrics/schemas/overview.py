"""`GET /`: what the collector reads, how it last went, and what the store holds."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SourceRead(BaseModel):
    name: str = Field(description="predictions:<service>, services, feedback:<model>, promotions:<model>, ...")
    last_success_at: datetime | None
    last_failure_at: datetime | None
    error_type: str | None = Field(
        description="Why the last read failed (unreachable, timeout, ...); null if it worked."
    )
    records: int = Field(description="Records the last successful read counted.")


class ServiceStateRead(BaseModel):
    service: str
    healthy: bool = Field(description="What the last probe of /health/ready found.")
    probed_at: datetime


class RetentionRead(BaseModel):
    minute_days: int
    hour_days: int
    day_days: int


class PricesRead(BaseModel):
    cpu_per_hour: float
    memory_per_gib_hour: float
    currency: str


class OverviewRead(BaseModel):
    service: str
    version: str
    collecting: bool = Field(description="Whether the collection schedule runs.")
    interval_s: float
    rounds: int
    failed_rounds: int
    last_round_at: datetime | None
    last_round_seconds: float | None
    sources: list[SourceRead]
    services: list[ServiceStateRead]
    watched_services: list[str]
    rows: dict[str, dict[str, int]] = Field(description="Rows stored per table and resolution.")
    retention: RetentionRead
    prices: PricesRead
