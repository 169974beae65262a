"""Request and response models of the training service (seed 000's TrainingClient)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Task = Literal["text_classification", "tabular_classification", "tabular_regression"]
JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
ModelName = Field(pattern=NAME_PATTERN, description="Registered model name.")


class DatasetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    version: int
    filename: str
    format: str
    sha256: str
    size_bytes: int
    rows: int
    task: Task
    text_column: str | None
    label_column: str
    feature_columns: list[str] | None
    columns: list[str]
    label_counts: dict[str, int]
    created_at: datetime


class DatasetUploaded(BaseModel):
    dataset: DatasetRead
    created: bool = Field(description="False when the same content was already stored under this name.")


class DatasetList(BaseModel):
    datasets: list[DatasetRead]
    count: int


class TrainingConfigBody(BaseModel):
    """How a model is trained; stored per model and reused by retraining."""

    model_config = ConfigDict(extra="forbid")

    task: Task = "text_classification"
    dataset: str = Field(pattern=NAME_PATTERN, description="Name of a stored dataset; its newest version is used.")
    evaluation_dataset: str | None = Field(
        None, pattern=NAME_PATTERN, description="Held-out dataset for the reported metrics; else a split."
    )
    text_column: str = "text"
    label_column: str = "label"
    feature_columns: list[str] | None = None
    test_size: float = Field(0.2, gt=0, lt=0.9)
    include_feedback: bool = Field(True, description="Retraining adds the dataset '<model>-feedback' when it exists.")
    params: dict[str, Any] = Field(default_factory=dict, description="Model hyper-parameters.")
    description: str | None = Field(None, max_length=2000)


class TrainingConfigRead(BaseModel):
    model_name: str
    config: TrainingConfigBody
    updated_at: datetime | None


class TrainRequest(BaseModel):
    """Start a training job; fields left out come from the model's stored config."""

    model_config = ConfigDict(extra="forbid")

    model_name: str = ModelName
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

    model_name: str = ModelName
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


class ModelVersionRead(BaseModel):
    version: str
    status: str
    stage: str = Field(description="Seed view of the aliases: champion=Production, challenger=Staging, else None.")
    aliases: list[str]
    run_id: str | None
    source: str | None
    created_at: datetime | None
    tags: dict[str, str]


class RegisteredModelRead(BaseModel):
    name: str
    description: str | None
    aliases: dict[str, str]
    tags: dict[str, str]
    latest_version: str | None
    champion_version: str | None
    challenger_version: str | None
    updated_at: datetime | None


class RegistryModelRead(RegisteredModelRead):
    versions: list[ModelVersionRead]


class ModelList(BaseModel):
    models: list[RegisteredModelRead]
    count: int
    refreshed_at: datetime | None


class RegistryRead(BaseModel):
    models: list[RegistryModelRead]
    count: int
    refreshed_at: datetime | None
    tracking_uri: str


class LatestModelRead(BaseModel):
    name: str
    version: str
    stage: str
    aliases: list[str]
    run_id: str | None
    created_at: datetime | None
    tags: dict[str, str]


class LatestModelList(BaseModel):
    models: list[LatestModelRead]
    count: int
