"""SLA requests and answers: the objectives of a model (version), its compliance over a window, its breaches."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mlsec.core.strict import JsonFloat, JsonInt

Objective = Literal["latency_p99_ms", "availability", "error_rate"]
MAX_WINDOW_MINUTES = 30 * 24 * 60
Rate = Annotated[JsonFloat, Field(ge=0, le=1)]


class SlaBody(BaseModel):
    """`PUT /slas/{model_name}`: the objectives, at least one; a null objective is not part of the SLA."""

    model_config = ConfigDict(extra="forbid")

    model_version: str | None = Field(
        None,
        pattern=r"^[0-9]{1,12}$",
        description="A registered version number (the rollups know numbers, not aliases); null: every version "
        "without an SLA of its own.",
    )
    latency_p99_ms: JsonFloat | None = Field(None, gt=0, le=3_600_000, description="p99 latency at most this.")
    availability_min: Rate | None = Field(None, description="Availability (share of time up) at least this.")
    error_rate_max: Rate | None = Field(None, description="Share of prediction requests failing at most this.")
    window_minutes: JsonInt = Field(60, ge=1, le=MAX_WINDOW_MINUTES, description="The window compliance is judged on.")

    @model_validator(mode="after")
    def _one_objective(self) -> SlaBody:
        if self.latency_p99_ms is None and self.availability_min is None and self.error_rate_max is None:
            raise ValueError("give at least one objective: latency_p99_ms, availability_min or error_rate_max")
        return self


class SlaRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    model_name: str
    model_version: str | None
    latency_p99_ms: float | None
    availability_min: float | None
    error_rate_max: float | None
    window_minutes: int
    created_at: datetime
    updated_at: datetime


class SlaList(BaseModel):
    slas: list[SlaRead]
    total: int


class ObjectiveResult(BaseModel):
    """One objective over the window: the measured value, the threshold, and whether it held (None: no data)."""

    objective: Objective
    value: float | None
    threshold: float
    met: bool | None


class Measured(BaseModel):
    """What a model version did over the window, SLA or not: its production traffic and its serving services."""

    predictions: int
    latency_p99_ms: float | None
    availability: float | None
    error_rate: float | None
    services: list[str] = Field(description="The serving services that answered this version in the window.")


class SlaCompliance(BaseModel):
    """The compliance of one model version with the SLA that applies to it (none: sla_id null, no objectives).

    compliant: False when an objective is broken, True when none is and at least one was measured, None when
    nothing could be measured (no traffic in the window).
    """

    model_name: str
    model_version: str
    sla_id: int | None
    window_start: datetime
    window_end: datetime
    compliant: bool | None
    objectives: list[ObjectiveResult]
    measured: Measured
    breaches: int = Field(description="Breaches detected for this version in the window.")


class ModelCompliance(BaseModel):
    model_name: str
    compliant: bool | None = Field(description="False when a version breaks its SLA; None when none was measured.")
    versions: list[SlaCompliance]


class BreachRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sla_id: int
    model_name: str
    model_version: str
    objective: Objective
    value: float
    threshold: float
    window_start: datetime
    window_end: datetime
    detected_at: datetime


class BreachList(BaseModel):
    breaches: list[BreachRead]
    total: int
    limit: int
