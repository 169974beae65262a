"""A model's stored training configuration (`/training/config/{model_name}`), reused by retraining."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlsec.core.limits import NAME_PATTERN
from mlsec.services.training.schemas.datasets import Task


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
