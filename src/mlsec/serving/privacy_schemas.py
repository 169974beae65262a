"""Request and response models of the privacy routes both serving services expose (privacy_routes.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from mlsec.core.limits import as_utc
from mlsec.ml.pii.subjects import HASH_PATTERN

MAX_SUBJECT_HASHES = 10_000
RetentionCategory = Literal["prediction_logs"]


def _not_a_number(value: object) -> object:
    """Pydantic would read a number (or a string of one) as seconds since 1970; a cutoff that deletes data is
    an ISO 8601 string."""
    if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
        raise ValueError("a time is an ISO 8601 string with its offset, such as 2026-01-31T00:00:00Z")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _to_utc(value: datetime) -> datetime:
    try:
        return as_utc(value)
    except OverflowError:
        raise ValueError("the time has no UTC equivalent between years 1 and 9999") from None


Cutoff = Annotated[AwareDatetime, BeforeValidator(_not_a_number), AfterValidator(_to_utc)]
"""A time with its offset (a naive one is refused: a deletion must not depend on which zone the caller meant)."""
SubjectHash = Annotated[
    str,
    Field(pattern=HASH_PATTERN.pattern, description="A subject's keyed hash (mlsec.ml.pii.subjects.subject_hash)."),
]


class PrivacyStatus(BaseModel):
    """What the service's prediction log keeps of its inputs (the data-privacy service's compliance input)."""

    store_text: bool = Field(description="Whether input text is stored at all (else only its SHA-256).")
    anonymize_text: bool = Field(description="Whether stored text has its personal data replaced by keyed hashes.")
    rows: int = Field(description="Rows in the prediction log.")
    rows_with_text: int = Field(description="Rows that keep their text.")
    oldest: datetime | None = Field(description="When the oldest row was logged (UTC); null when the log is empty.")


class SubjectsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value_hashes: list[SubjectHash] = Field(
        min_length=1, max_length=MAX_SUBJECT_HASHES, description="Keyed hashes of one or more subjects' identifiers."
    )
    erase: bool = Field(False, strict=True, description="Delete the rows found (irreversible); false: only count them.")


class SubjectRows(BaseModel):
    rows: int = Field(description="Rows whose stored text carries any of the hashes.")
    rows_removed: int = Field(description="Rows deleted (0 unless `erase`).")


class RetentionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    older_than: Cutoff = Field(description="Rows logged before this time (with its offset) are matched.")
    dry_run: bool = Field(True, strict=True, description="Only count (default); false: delete, in batches.")


class RetentionResult(BaseModel):
    category: RetentionCategory = Field("prediction_logs", description="The data category cleaned.")
    matched: int = Field(description="Rows older than the cutoff.")
    deleted: int = Field(description="Rows deleted (0 on a dry run).")
