"""Settings of the training service alone (prefix MLSEC_TRAINING_)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from mlsec.core.settings import ServiceSettings

MIB = 1 << 20


class TrainingSettings(ServiceSettings):
    """How many jobs run at once, how large an upload may be, whether to train the default model, and whether a
    job on personal data needs the subjects' consent."""

    model_config = SettingsConfigDict(env_prefix="MLSEC_TRAINING_")

    workers: int = Field(1, ge=1, le=64, description="Training jobs that run at the same time, one process each.")
    max_upload_bytes: int = Field(100 * MIB, ge=1, description="Limit of /data/upload-data.")
    max_large_upload_bytes: int = Field(5 * 1024 * MIB, ge=1, description="Limit of /data/efficient/upload-large-file.")
    upload_chunk_bytes: int = Field(MIB, ge=4096, le=64 * MIB)
    bootstrap_default_model: bool = Field(
        True, description="Train security-classifier on start-up when it has no champion."
    )
    registry_refresh_seconds: float = Field(15.0, gt=0, le=3600)
    max_log_lines: int = Field(500, ge=10, le=100_000)
    consent_check: Literal["required", "off"] = Field(
        "required",
        description="required: a job on a dataset holding subject hashes asks the data-privacy service for "
        "training consent first and is refused (409) without it, or (503) when that service cannot answer; "
        "off: no check.",
    )
