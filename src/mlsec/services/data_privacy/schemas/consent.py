"""Consent records, status, withdrawal and the training check."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from mlsec.core.limits import MAX_SUBJECT_HASHES, NO_NUL_PATTERN, SubjectHash
from mlsec.services.data_privacy.schemas.subjects import SUBJECT_ID

PURPOSE = r"^[a-z][a-z0-9_-]{0,31}$"


class ConsentRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_id: str = Field(pattern=SUBJECT_ID)
    purpose: str = Field(pattern=PURPOSE, description="One of MLSEC_DATA_PRIVACY_PURPOSES.")
    granted: bool = Field(True, strict=True)
    source: str | None = Field(
        None, max_length=200, pattern=NO_NUL_PATTERN, description="Where it was given (a form, a contract)."
    )
    policy_version: str | None = Field(
        None, max_length=64, pattern=NO_NUL_PATTERN, description="The privacy policy's version agreed to."
    )


class ConsentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    subject_id: str
    purpose: str
    version: int
    granted: bool
    source: str | None
    policy_version: str | None
    recorded_at: datetime
    recorded_by: str


class ConsentStatus(BaseModel):
    subject_id: str
    subject_status: str
    purposes: dict[str, ConsentRead]
    history: list[ConsentRead]


class ConsentWithdraw(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_id: str = Field(pattern=SUBJECT_ID)
    purposes: list[str] | None = Field(None, min_length=1, max_length=32, description="Default: every purpose.")


class WithdrawResult(BaseModel):
    subject_id: str
    withdrawn: list[ConsentRead]


class ConsentCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(pattern=PURPOSE)
    value_hashes: list[SubjectHash] = Field(
        max_length=MAX_SUBJECT_HASHES, description="Keyed hashes of identifiers found in a dataset."
    )


class ConsentCheckResult(BaseModel):
    purpose: str
    subjects_without_consent: list[str]
    count: int
    subjects_with_consent: int
