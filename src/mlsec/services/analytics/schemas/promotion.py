"""Promotion requests and answers: an evaluation, the ledger of decisions, the champion at a point in time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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
