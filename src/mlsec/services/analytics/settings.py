"""Settings of the analytics service (prefix MLSEC_ANALYTICS_; e-mail under the seed's SMTP_* names).

Per-model monitoring (drift thresholds, auto-retrain triggers, promotion criteria) is data, not settings: it is
stored in the database and changed through `/auto-retrain/config` and `/drift/config/{model}` while running.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from mlsec.core.settings import ServiceSettings

MIB = 1 << 20


class AnalyticsSettings(ServiceSettings):
    """Schedules, windows, upload limits and where alerts are e-mailed."""

    model_config = SettingsConfigDict(env_prefix="MLSEC_ANALYTICS_")

    monitor_interval_seconds: float = Field(
        300.0, ge=0, description="How often live traffic is checked for drift and retrains are dispatched; 0: never."
    )
    monitor_models: list[str] = Field(
        default_factory=list, description="Models checked on the schedule; empty: every model the model API serves."
    )
    max_upload_bytes: int = Field(512 * MIB, ge=1, description="Limit of each file of /drift/detect/upload.")
    max_detect_values: int = Field(
        5_000_000, ge=1, description="Values (rows x features, both sides) one JSON /drift/detect may carry."
    )
    retrain_poll_seconds: float = Field(5.0, gt=0, description="How often a started retrain's job is looked at.")
    retrain_timeout_seconds: float = Field(3600.0, gt=0, description="A retrain job running longer is given up.")
    redteam_batch_size: int = Field(64, ge=1, le=1000, description="Attacks sent per prediction batch.")

    smtp_host: str | None = Field(None, validation_alias=AliasChoices("SMTP_HOST", "MLSEC_ANALYTICS_SMTP_HOST"))
    smtp_port: int = Field(587, ge=1, le=65535, validation_alias=AliasChoices("SMTP_PORT", "MLSEC_ANALYTICS_SMTP_PORT"))
    smtp_username: str | None = Field(
        None, validation_alias=AliasChoices("SMTP_USERNAME", "MLSEC_ANALYTICS_SMTP_USERNAME")
    )
    smtp_password: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SMTP_PASSWORD", "MLSEC_ANALYTICS_SMTP_PASSWORD")
    )
    smtp_starttls: bool = Field(True, validation_alias=AliasChoices("SMTP_STARTTLS", "MLSEC_ANALYTICS_SMTP_STARTTLS"))
    smtp_timeout_seconds: float = Field(10.0, gt=0)
    alert_email_from: str = Field("mlsec-alerts@localhost", min_length=3, max_length=254)
    alert_email_to: list[str] = Field(default_factory=list, description="Recipients of alert e-mails; none: off.")
    alert_email_min_severity: str = Field("medium", pattern="^(low|medium|high)$")
