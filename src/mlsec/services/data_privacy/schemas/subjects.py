"""Data subjects, their lineage and their erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlsec.core.limits import NO_NUL_PATTERN
from mlsec.services.data_privacy.schemas.types import IdentifierType

SUBJECT_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$"


class IdentifierIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: IdentifierType = Field(description="A type whose value points at one person.")
    value: str = Field(min_length=1, max_length=320, description="Hashed on arrival; never stored or logged.")


class SubjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_id: str = Field(pattern=SUBJECT_ID, description="The person's id (the user id consent is recorded for).")
    identifiers: list[IdentifierIn] = Field(min_length=1, max_length=100)
    note: str | None = Field(None, max_length=500, pattern=NO_NUL_PATTERN)


class IdentifierRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    entity_type: str
    value_hash: str = Field(description="Keyed hash of the normalized value.")
    created_at: datetime


class SubjectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    status: str
    note: str | None
    created_at: datetime
    created_by: str
    erased_at: datetime | None


class SubjectCreated(SubjectRead):
    identifiers: list[IdentifierRead]
    created: bool


class SubjectSummary(SubjectRead):
    identifiers: int


class SubjectPage(BaseModel):
    items: list[SubjectSummary]
    total: int
    limit: int
    offset: int


class StoreAnswer(BaseModel):
    store: str
    ok: bool
    answer: dict[str, Any] | None
    error: str | None


class ConsentInForce(BaseModel):
    granted: bool
    version: int
    recorded_at: datetime


class SubjectDetail(SubjectRead):
    """The subject and where their data is now, asked of every store."""

    identifiers: list[IdentifierRead]
    consents: dict[str, ConsentInForce]
    datasets: list[dict[str, Any]]
    models: list[dict[str, Any]]
    prediction_log_rows: dict[str, int | None]
    stores: list[StoreAnswer]
    erasures: list[dict[str, Any]]


class ErasureRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: str
    status: str
    requested_by: str
    requested_at: datetime
    report: dict[str, Any]
