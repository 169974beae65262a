"""Auto-retrain requests and answers: triggers, the queue, the history and the config listing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlsec.services.analytics.schemas.configs import MonitoringConfigRead


class RetrainTrigger(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("manual", min_length=1, max_length=500)
    force: bool = Field(False, description="Start even in the cooldown or over the daily limit.")


class RetrainRequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    model_name: str
    trigger: str
    priority: int
    status: str = Field(description="queued, skipped, running, succeeded or failed.")
    reason: str = Field(description="Why it was skipped, else why it was asked for.")
    drift_run_id: int | None
    alert_id: int | None
    job_id: str | None
    started_at: datetime | None
    finished_at: datetime | None
    detail: dict[str, Any]


class RetrainQueue(BaseModel):
    requests: list[RetrainRequestRead]
    running: int
    queued: int


class RetrainHistory(BaseModel):
    requests: list[RetrainRequestRead]
    total: int
    limit: int
    offset: int


class AutoRetrainConfigList(BaseModel):
    defaults: MonitoringConfigRead
    models: list[MonitoringConfigRead]
