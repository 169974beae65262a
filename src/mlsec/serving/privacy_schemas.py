"""Request and response models of the privacy routes both serving services expose (privacy_routes.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mlsec.core.limits import MAX_SUBJECT_HASHES, Cutoff, SubjectHash

RetentionCategory = Literal["prediction_logs"]


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
