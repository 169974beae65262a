"""Answers of `GET /`, `/analytics/summary` and `/analytics/trends`: read-only views across the service's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TrendBucketSize = Literal["hour", "day"]


class EndpointGroup(BaseModel):
    name: str
    paths: list[str]
    description: str


class ServiceInfo(BaseModel):
    service: str
    version: str
    description: str
    monitored_models: list[str] = Field(description="Models with feedback or drift runs.")
    scheduled_models: list[str] = Field(description="MLSEC_ANALYTICS_MONITOR_MODELS; empty: every served model.")
    monitor_enabled: bool
    monitor_interval_seconds: float
    email_alerts: bool
    endpoints: list[EndpointGroup]


class _Brief(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class FeedbackSummary(BaseModel):
    models: int = Field(description="Models with feedback.")
    count: int
    last_at: datetime | None = Field(description="When the newest feedback was stored.")


class DriftRunBrief(_Brief):
    id: int
    created_at: datetime
    source: str
    model_name: str | None
    model_version: str | None
    drift_detected: bool
    severity: str


class DriftSummary(BaseModel):
    runs: int
    drifted: int
    last: DriftRunBrief | None


class AlertSummary(BaseModel):
    total: int
    open: int
    open_by_severity: dict[str, int] = Field(description="low, medium and high always; other severities if open.")


class RedTeamLatest(BaseModel):
    model_name: str
    model_version: str
    run_id: int
    created_at: datetime
    attempts: int
    detection_rate: float


class RedTeamSummary(BaseModel):
    runs: int
    latest: list[RedTeamLatest] = Field(description="The latest run of each model, by model name.")


class RetrainSummary(BaseModel):
    requests: int
    by_status: dict[str, int] = Field(description="queued, running, succeeded, failed and skipped always.")


class PromotionBrief(_Brief):
    id: int
    created_at: datetime
    model_name: str
    action: str
    champion_before: str | None
    champion_after: str | None
    challenger_version: str | None
    actor: str
    summary: str


class PromotionSummary(BaseModel):
    promoted: int
    rejected: int
    observed: int
    last: PromotionBrief | None


class AnalyticsSummary(BaseModel):
    generated_at: datetime
    feedback: FeedbackSummary
    drift: DriftSummary
    alerts: AlertSummary
    red_team: RedTeamSummary
    retrain: RetrainSummary
    promotion: PromotionSummary


class TrendBucket(BaseModel):
    start: datetime
    end: datetime
    feedback: int
    accuracy: float | None
    f1: float | None = Field(description="Each model's F1 (binary or macro), weighted by its feedback count.")
    drift_runs: int
    drifted_runs: int
    alerts: int
    red_team_runs: int
    detection_rate: float | None = Field(description="Mean detection rate of the red-team runs.")


class AnalyticsTrends(BaseModel):
    model_name: str | None
    days: int
    bucket: TrendBucketSize
    start: datetime
    end: datetime
    time_basis: str
    buckets: list[TrendBucket]
