"""Seed 004's model shapes: `ModelInfo` (one registered model version), a version of one model, drift over time."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ModelInfo(BaseModel):
    """One registered model version, as seed 004 names its fields; `aliases` added (the stage comes from them)."""

    name: str
    version: str
    stage: str = Field(description="Production (holds champion), Staging (challenger), or MLflow's own stage if set.")
    creation_timestamp: datetime | None
    last_updated_timestamp: datetime | None
    description: str | None
    tags: dict[str, str]
    metrics: dict[str, float] = Field(description="The metrics of the MLflow run that produced the version.")
    model_type: str | None = Field(description="classifier or regressor: as monitored, tagged, or from its task.")
    run_id: str | None
    aliases: list[str] = Field(default_factory=list)


class ModelVersionInfo(BaseModel):
    """One version of a model (`/model/{name}/versions`)."""

    version: str
    stage: str
    creation_timestamp: datetime | None
    last_updated_timestamp: datetime | None
    description: str | None
    tags: dict[str, str]
    metrics: dict[str, float]
    run_id: str | None
    aliases: list[str] = Field(default_factory=list)


class MetricsPoint(BaseModel, extra="allow"):
    """One point of a version's metrics: `accuracy`, `precision`, `recall`, `f1_score` (and any other metric the
    source has) at `date`; `source` says where it comes from."""

    date: datetime
    source: str = Field(description="training_run: the version's MLflow run; production_feedback: analytics.")
    count: int | None = Field(None, description="Labelled predictions behind a production_feedback point.")


class VersionDrift(BaseModel):
    version: str
    stage: str
    metrics_over_time: list[MetricsPoint] = Field(description="Oldest first.")
