"""Settings of the data-privacy service (prefix MLSEC_DATA_PRIVACY_). The keys of hashes and encryption are the
platform's (MLSEC_PII_HASH_KEY, MLSEC_PII_ENCRYPTION_KEY: mlsec.core.pii_keys), shared with every service."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from mlsec.core.settings import ServiceSettings

CATEGORIES = ("prediction_logs", "datasets", "classifications", "audit")
"""Data categories under retention: the serving services' prediction logs, the training service's dataset
versions, this service's classification history and its audit log."""


class DataPrivacySettings(ServiceSettings):
    """What the engine looks for, request limits, the purposes consent is asked for and retention defaults."""

    model_config = SettingsConfigDict(env_prefix="MLSEC_DATA_PRIVACY_")

    types: list[str] | None = Field(
        None,
        min_length=1,
        description="Entity types looked for (a JSON list); unset: every type, person names and places included.",
    )
    threshold: float = Field(0.5, ge=0.0, le=1.0, description="Findings scored below it are not reported.")
    region: str = Field("US", pattern=r"^[A-Z]{2}$", description="Country whose national phone formats count most.")
    allow_list: list[str] = Field(
        default_factory=list, max_length=10_000, description="Values never reported (e.g. a public support address)."
    )
    deny_list: list[str] = Field(
        default_factory=list, max_length=10_000, description="Values always reported as DENY_LIST (code names)."
    )
    max_text_chars: int = Field(100_000, ge=1, le=10_000_000, description="Longest text one request may carry.")
    max_batch_texts: int = Field(1000, ge=1, le=100_000, description="Most texts in one /anonymize/batch.")
    purposes: list[str] = Field(
        default_factory=lambda: ["training", "analytics", "monitoring", "marketing"],
        min_length=1,
        description="Purposes consent is recorded for; training checks `training` before it uses a dataset.",
    )
    retention_prediction_logs_days: int | None = Field(90, ge=1, le=36_500)
    retention_datasets_days: int | None = Field(None, ge=1, le=36_500)
    retention_classifications_days: int | None = Field(365, ge=1, le=36_500)
    retention_audit_days: int | None = Field(2190, ge=1, le=36_500)
    compliance_max_subjects: int = Field(
        1000, ge=1, le=1_000_000, description="Most subjects whose data is looked up for one compliance check."
    )
    audit_events: bool = Field(
        True, description="Write the platform's admin, training and promotion events to the audit log."
    )

    def default_retention(self, category: str) -> int | None:
        """The period a category has until someone sets one."""
        return {
            "prediction_logs": self.retention_prediction_logs_days,
            "datasets": self.retention_datasets_days,
            "classifications": self.retention_classifications_days,
            "audit": self.retention_audit_days,
        }[category]
