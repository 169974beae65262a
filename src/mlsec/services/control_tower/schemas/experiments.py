"""Seed 004's experiment and run shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ExperimentInfo(BaseModel):
    experiment_id: str
    name: str
    artifact_location: str | None
    lifecycle_stage: str
    creation_time: datetime | None
    last_update_time: datetime | None
    tags: dict[str, str]
    run_count: int = Field(description="Runs of the experiment when the snapshot was taken.")


class RunInfo(BaseModel):
    run_id: str
    experiment_id: str
    status: str
    start_time: datetime | None
    end_time: datetime | None
    metrics: dict[str, float]
    params: dict[str, str]
    tags: dict[str, str]
