"""Training jobs: what starts one (`/training/train`, `/training/retrain`) and how one reads back."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlsec.core.limits import NAME_PATTERN, ModelName
from mlsec.services.training.schemas.datasets import Task

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class TrainRequest(BaseModel):
    """Start a training job; fields left out come from the model's stored config."""

    model_config = ConfigDict(extra="forbid")

    model_name: ModelName
    task: Task | None = None
    dataset: str | None = Field(None, pattern=NAME_PATTERN)
    evaluation_dataset: str | None = Field(None, pattern=NAME_PATTERN)
    text_column: str | None = None
    label_column: str | None = None
    feature_columns: list[str] | None = None
    test_size: float | None = Field(None, gt=0, lt=0.9)
    params: dict[str, Any] | None = None
    save_config: bool = Field(True, description="Store the resulting config for retraining.")


class RetrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_name: ModelName
    reason: str = Field("manual", max_length=200)


class JobLogLine(BaseModel):
    ts: datetime
    message: str


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    model_name: str
    kind: str
    status: JobStatus
    progress: int = Field(ge=0, le=100)
    step: str
    config: dict[str, Any]
    dataset_ids: list[int]
    metrics: dict[str, Any]
    error: str | None
    failure_reason: str | None
    mlflow_run_id: str | None
    mlflow_experiment_id: str | None
    model_version: str | None
    alias: str | None
    training_seconds: float | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobDetail(JobRead):
    logs: list[JobLogLine]
    mlflow_run_url: str | None = None


class JobList(BaseModel):
    jobs: list[JobRead]
    total: int
    limit: int
    offset: int
