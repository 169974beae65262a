"""Auto-retrain and promotion requests and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlsec.services.analytics.schemas.config import MonitoringConfigRead


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


class PromotionEvaluate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    challenger_version: str | None = Field(None, pattern=r"^[0-9]{1,12}$", description="Default: the challenger alias.")
    promote: bool = Field(True, description="False: evaluate and record only, never move the alias.")


class PromotionRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    model_name: str
    action: str = Field(description="promoted, rejected or observed.")
    champion_before: str | None
    champion_after: str | None
    challenger_version: str | None
    actor: str
    retrain_request_id: int | None
    drift_run_id: int | None
    summary: str
    evidence: dict[str, Any]


class PromotionLedger(BaseModel):
    model_name: str
    records: list[PromotionRecordRead]
    total: int
    limit: int
    offset: int


class ChampionAt(BaseModel):
    model_name: str
    at: datetime
    version: str | None
    since: datetime
    record: PromotionRecordRead
