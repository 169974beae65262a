"""Classification requests and answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from mlsec.ml.pii.classification import Level
from mlsec.services.data_privacy.schemas.types import EntityType

EntityList = list[EntityType] | None


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="The text; its size limit is MLSEC_DATA_PRIVACY_MAX_TEXT_CHARS.")
    entities: EntityList = Field(None, min_length=1, max_length=32, description="Only these types (default: all).")
    threshold: float | None = Field(
        None, ge=0.0, le=1.0, strict=True, description="Minimum score (default: the deployment's)."
    )


class FindingRead(BaseModel):
    type: str
    start: int
    end: int
    score: float
    rule: str = Field(description="The recognizer (and variant) that found it.")


class ClassifyResult(BaseModel):
    id: int = Field(description="The history entry.")
    level: Level
    reasons: list[str]
    counts: dict[str, int]
    findings: list[FindingRead]
    text_length: int
    classified_at: datetime


class HistoryItem(BaseModel):
    """A past classification: never the text, only its keyed hash and length."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    level: Level
    counts: dict[str, int]
    reasons: list[str]
    text_hash: str
    text_length: int
    caller: str


class HistoryPage(BaseModel):
    items: list[HistoryItem]
    total: int
    limit: int
    offset: int
