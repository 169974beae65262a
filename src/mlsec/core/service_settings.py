"""The base of each service's own settings, and what the two serving services share.

Apart from `mlsec.core.settings` (the platform's settings, one instance per process) because a service's
settings are another concept: its own prefix (`MLSEC_<SERVICE>_...`), read beside the common ones.
`mlsec.core.settings` re-exports both classes, so either import works.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mlsec.core.limits import MAX_TEXT_CHARS, NAME_PATTERN


class ServiceSettings(BaseSettings):
    """The base of every service's own settings: read from the environment and `.env`, unknown names ignored.

    A subclass sets only its prefix (`model_config = SettingsConfigDict(env_prefix="MLSEC_<SERVICE>_")`);
    pydantic merges it with this configuration.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)


class ServingSettings(ServiceSettings):
    """What a serving service (model API, model cache) shares; each subclass sets its own prefix."""

    default_model: str = Field("security-classifier", pattern=NAME_PATTERN)
    default_alias: str = Field("champion", pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
    max_text_chars: int = Field(
        MAX_TEXT_CHARS, ge=1, le=10_000_000, description="Longest text a prediction accepts (also through the gateway)."
    )
    max_batch_items: int = Field(1_000, ge=1, le=100_000, description="Most texts in one /predict/batch.")
    micro_batch_max: int = Field(64, ge=1, le=4096, description="Most single predictions grouped into one call.")
    micro_batch_wait_ms: float = Field(2.0, ge=0, le=100, description="Longest a grouped prediction waits.")
    alias_poll_seconds: float = Field(5.0, gt=0, le=3600, description="How often aliases are checked for a swap.")
    champion_poll_seconds: float = Field(
        30.0, gt=0, le=3600, description="How often a preloading service looks for models that became champion."
    )
    threads: int = Field(2, ge=1, le=64, description="Threads running model code.")
    compile_models: bool = Field(
        True, description="Serve text classifiers through the compiled path (checked equal at load); off: the pipeline."
    )
    store_text: bool = Field(
        False, description="Store input text in the prediction log (anonymized, see ANONYMIZE_TEXT); off: its hash."
    )
    anonymize_text: bool = Field(
        True,
        description="Replace personal data in stored text with <TYPE:keyed hash> (erasure finds the row by the hash); "
        "off: raw text is stored, a compliance violation the data-privacy service reports.",
    )
    projection_fraction: float = Field(
        0.25,
        ge=0,
        le=1,
        description="Share of logged texts (chosen by their hash) that get the model's feature projection proj_* "
        "for drift, computed in the log writer; 0: none.",
    )
    log_queue: int = Field(10_000, ge=10, le=1_000_000, description="Prediction-log records waiting at most.")
