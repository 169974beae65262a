"""The training service's privacy edge as `/privacy/*` answers it: a subject's rows and the models trained on
them, their erasure, retention of old dataset versions, and the totals."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from mlsec.core.limits import MAX_SUBJECT_HASHES, Cutoff, SubjectHash


class SubjectsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value_hashes: list[SubjectHash] = Field(
        min_length=1, max_length=MAX_SUBJECT_HASHES, description="Keyed hashes of one or more subjects' identifiers."
    )
    erase: StrictBool = Field(False, description="Rewrite each dataset version without the rows found (irreversible).")
    retrain: StrictBool = Field(False, description="With `erase`: queue a retraining of each affected model.")


class SubjectDataset(BaseModel):
    name: str
    version: int
    rows: int = Field(description="Rows of this version holding any of the hashes (before an erasure).")


class SubjectModel(BaseModel):
    """A registered model version whose training job used an affected dataset version."""

    model_name: str
    model_version: str
    run_id: str | None
    job_id: str
    dataset_name: str
    dataset_version: int


class RetrainRefused(BaseModel):
    model_name: str
    reason: str


class SubjectsRead(BaseModel):
    datasets: list[SubjectDataset]
    models: list[SubjectModel]
    rows_removed: int = Field(description="Rows erased from the dataset files (0 unless `erase`).")
    retrain_jobs: list[str] = Field(description="Ids of the retraining jobs queued (`erase` and `retrain`).")
    retrain_refused: list[RetrainRefused] = Field(
        default_factory=list,
        description="Models whose retraining was not queued, and why (e.g. other subjects without consent); the "
        "erasure happened all the same.",
    )


class RetentionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    older_than: Cutoff = Field(description="Dataset versions created before this time (with its offset) match.")
    dry_run: StrictBool = Field(True, description="Only count (default); false: delete the files and the rows.")


class RetentionRead(BaseModel):
    category: Literal["datasets"] = "datasets"
    matched: int = Field(description="Versions older than the cutoff, neither the newest of their name nor in use.")
    deleted: int = Field(description="Versions deleted (0 on a dry run).")


class PrivacyStatus(BaseModel):
    datasets: int = Field(description="Dataset versions stored.")
    datasets_with_pii: int = Field(description="Versions in whose text column PII was found.")
    pii_counts: dict[str, int] = Field(description="Findings per PII type, summed over every version.")
    subject_hashes: int = Field(description="Distinct subject hashes over every version.")
