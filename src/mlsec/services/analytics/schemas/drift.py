"""Drift requests and answers: ad-hoc checks, stored runs, alerts and the per-model drift config."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlsec.core.limits import ModelName
from mlsec.services.analytics.schemas.configs import (
    Correction,
    DriftSettings,
    FeatureDriftConfig,
    Severity,
    TestName,
    Thresholds,
)

FeatureName = str
Value = float | int | str | bool | None


class DriftOptions(BaseModel):
    """How an ad-hoc check decides: the same knobs as a model's drift config."""

    model_config = ConfigDict(extra="forbid")

    categorical: list[FeatureName] = Field(default_factory=list, max_length=1000)
    tests: list[TestName] | None = Field(None, min_length=1, description="None: chosen like Evidently does.")
    alpha: float = Field(0.05, gt=0, lt=1)
    correction: Correction = "benjamini-hochberg"
    drift_share: float = Field(0.5, gt=0, le=1)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    features: dict[FeatureName, FeatureDriftConfig] = Field(default_factory=dict, max_length=1000)
    model_name: ModelName | None = Field(None, description="File the run under this model.")
    store: bool = Field(True, description="Keep the run in /drift/history.")


class DriftDetectRequest(DriftOptions):
    """`POST /drift/detect`: columns of values per feature, on both sides."""

    reference: dict[FeatureName, list[Value]] = Field(min_length=1, max_length=1000)
    current: dict[FeatureName, list[Value]] = Field(min_length=1, max_length=1000)


class DriftRunSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int | None = Field(description="None when the run was not stored (store=false).")
    created_at: datetime
    source: str
    model_name: str | None
    model_version: str | None
    window_start: datetime | None
    window_end: datetime | None
    reference_rows: int
    current_rows: int
    drift_detected: bool
    model_drift: bool = Field(description="The model's score distribution moved (live checks).")
    severity: Severity
    drifted_features: list[str]


class DriftRunRead(DriftRunSummary):
    method: str
    report: dict[str, Any] = Field(description="Per feature and test: statistic, p-values, threshold, severity.")
    alerts: list[int] = Field(default_factory=list, description="Alerts this run raised.")


class DriftRunList(BaseModel):
    runs: list[DriftRunSummary]
    total: int
    limit: int
    offset: int


class DriftAlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    model_name: str | None
    model_version: str | None
    kind: str
    severity: Severity
    message: str
    drift_run_id: int | None
    features: list[str]
    status: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    note: str | None
    notifications: dict[str, Any]
    trace_id: str | None = Field(
        None, description="The trace of the request or check that raised it (the tracing service's /traces/{id})."
    )


class DriftAlertList(BaseModel):
    alerts: list[DriftAlertRead]
    total: int
    open: int
    limit: int
    offset: int


class AcknowledgeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=2000)


class ModelDriftStatus(BaseModel):
    model_name: str
    monitored: bool = Field(description="Checked on the schedule.")
    window_minutes: float
    last_run: DriftRunSummary | None
    open_alerts: int


class DriftStatus(BaseModel):
    monitor_interval_seconds: float
    models: list[ModelDriftStatus]
    open_alerts: int
    last_check_at: datetime | None


class DriftConfigRead(BaseModel):
    model_name: str
    stored: bool
    drift: DriftSettings


class FeatureDriftAnalysis(BaseModel):
    feature: str
    drift_detected: bool
    severity: Severity
    tests: list[dict[str, Any]]


class ModelDriftAnalysis(BaseModel):
    model_name: str
    run: DriftRunSummary
    method: str
    features: list[FeatureDriftAnalysis]


class DriftAnalysis(BaseModel):
    models: list[ModelDriftAnalysis]
