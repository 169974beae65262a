"""Settings of the business-metrics service (prefix MLSEC_BUSINESS_METRICS_): how often the other services are
read, how long each resolution of the rollups is kept, what a CPU hour and a GiB-hour of memory cost, and which
labels are not threats."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from mlsec.core.settings import ServiceSettings

DEFAULT_BENIGN_LABELS = frozenset({"0", "benign", "safe", "negative", "legitimate"})


class BusinessMetricsSettings(ServiceSettings):
    """The collector's schedule, retention per resolution, prices and the report schedule."""

    model_config = SettingsConfigDict(env_prefix="MLSEC_BUSINESS_METRICS_")

    collect_interval_s: float = Field(
        60.0, gt=0, le=86_400, description="Seconds between two collection rounds (prediction logs, /metrics, health)."
    )
    collect_enabled: bool = Field(
        True, description="Run the collection rounds on the schedule (off: nothing is read from the other services)."
    )
    collect_page_size: int = Field(
        5_000, ge=1, le=10_000, description="Prediction-log records read per request while catching up."
    )
    collect_max_pages: int = Field(
        20, ge=1, le=10_000, description="Most prediction-log pages read per model and round (the rest next round)."
    )
    watched_services: list[str] = Field(
        default_factory=list,
        description="Services probed and scraped each round (a JSON list of names); empty: every platform service.",
    )
    minute_retention_days: int = Field(14, ge=1, le=3650, description="Per-minute rollups older than this are deleted.")
    hour_retention_days: int = Field(180, ge=1, le=36_500, description="Hourly rollups older than this are deleted.")
    day_retention_days: int = Field(1830, ge=1, le=36_500, description="Daily rollups older than this are deleted.")
    cpu_price_per_hour: float = Field(0.0475, ge=0, le=1_000_000, description="Price of one CPU core for an hour.")
    memory_price_per_gib_hour: float = Field(
        0.0050, ge=0, le=1_000_000, description="Price of one GiB of resident memory for an hour."
    )
    currency: str = Field("USD", min_length=1, max_length=8, description="The prices' currency, as reports show it.")
    benign_labels: Annotated[frozenset[str], NoDecode] = Field(
        DEFAULT_BENIGN_LABELS, description="Predicted labels that are not threats; any other label is a threat."
    )
    daily_report_hour_utc: int | None = Field(
        None, ge=0, le=23, description="Hour (UTC) at which the previous day's report is generated; unset: none."
    )
    report_retention_days: int = Field(90, ge=1, le=36_500, description="Stored reports older than this are deleted.")

    @field_validator("benign_labels", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """`MLSEC_BUSINESS_METRICS_BENIGN_LABELS=0,benign` as well as a JSON list."""
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value
