"""Shapes of `/security`, `/threats` and `/compliance`: what the detectors caught, how well (on labelled
feedback and against the red team), and whether the platform keeps its privacy and service-level promises."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from mlsec.services.business_metrics.schemas.metrics import PeriodRead
from mlsec.services.business_metrics.schemas.performance import SourceStatus
from mlsec.services.business_metrics.schemas.slas import SlaCompliance
from mlsec.services.business_metrics.service.period import Resolution


class Confusion(BaseModel):
    """Labelled feedback of the period (positive = threat)."""

    tp: int
    fp: int
    tn: int
    fn: int


class ModelSecurity(BaseModel):
    model_name: str
    model_version: str
    predictions: int
    threats_detected: int
    threats_blocked: int
    threat_rate: float | None
    detection_rate: float | None = Field(description="tp / (tp + fn) on labelled feedback; null without positives.")
    false_positive_rate: float | None = Field(description="fp / (fp + tn); null without negatives.")
    feedback: Confusion


class RedTeamRead(BaseModel):
    """A model's latest red-team run, as the analytics service keeps it."""

    model_name: str
    model_version: str
    created_at: datetime
    attempts: int
    detected: int
    detection_rate: float


class SecurityTotals(BaseModel):
    predictions: int
    threats_detected: int
    threats_blocked: int
    threat_rate: float | None
    detection_rate: float | None
    false_positive_rate: float | None
    drift_alerts: int


class SecurityRead(BaseModel):
    period: PeriodRead
    totals: SecurityTotals
    models: list[ModelSecurity]
    drift_alerts: dict[str, int] = Field(description="Drift alerts raised in the period, per model.")
    red_team: list[RedTeamRead] | None = Field(description="Latest run per model; null when analytics is unreachable.")
    sources: dict[str, SourceStatus]


class ThreatPoint(BaseModel):
    start: datetime
    predictions: int
    threats: int
    threat_rate: float | None


class ModelThreats(BaseModel):
    model_name: str
    points: list[ThreatPoint]


class ThreatsRead(BaseModel):
    """Threats detected per bucket, per model (every version together)."""

    period: PeriodRead
    resolution: Resolution
    models: list[ModelThreats]


class ComplianceRead(BaseModel):
    period: PeriodRead
    privacy: dict[str, Any] | None = Field(
        description="The data-privacy service's /compliance/status; null when it is unreachable."
    )
    slas: list[SlaCompliance] = Field(description="Every model version an SLA applies to, judged over the period.")
    sources: dict[str, SourceStatus]
