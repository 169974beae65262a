"""Anonymization requests and answers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mlsec.ml.pii.anonymize import Operator
from mlsec.services.data_privacy.schemas.types import EntityType


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operator: Operator = Field("replace", description="For every type not named in `operators`.")
    operators: dict[EntityType, Operator] | None = Field(None, max_length=32, description="One operator per type.")
    entities: list[EntityType] | None = Field(None, min_length=1, max_length=32, description="Only these types.")
    keep_last: int = Field(4, ge=0, le=32, strict=True, description="Characters `mask` keeps at the end.")


class AnonymizeRequest(_Options):
    text: str = Field(min_length=1)
    subject_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$",
        description="Pseudonyms consistent across requests for this subject (default: within the request).",
    )


class BatchRequest(_Options):
    texts: list[str] = Field(min_length=1, description="At most MLSEC_DATA_PRIVACY_MAX_BATCH_TEXTS texts.")


class ReplacementRead(BaseModel):
    type: str
    start: int
    end: int
    operator: str


class AnonymizeResult(BaseModel):
    text: str
    items: list[ReplacementRead]
    findings: int


class BatchResult(BaseModel):
    results: list[AnonymizeResult]
    count: int
    findings: int


class DecryptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=8, max_length=20_000, pattern=r"^enc:v1:[A-Za-z0-9_-]+$")
    reason: str = Field(min_length=3, max_length=500, description="Why; written to the audit log.")


class DecryptResult(BaseModel):
    value: str
    audit_seq: int
