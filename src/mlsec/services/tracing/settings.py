"""Settings of the tracing service (prefix MLSEC_TRACING_): what one OTLP request may carry, how much ingest may
wait for the database before the receiver asks exporters to retry later, and how long spans are kept."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from mlsec.core.settings import ServiceSettings

MIB = 1024 * 1024


class TracingSettings(ServiceSettings):
    """Receiver limits, the ingest backlog, attribute limits and retention."""

    model_config = SettingsConfigDict(env_prefix="MLSEC_TRACING_")

    max_request_bytes: int = Field(
        4 * MIB,
        ge=1024,
        le=256 * MIB,
        description="Largest OTLP request body, compressed and decompressed alike (413 above it).",
    )
    max_pending_spans: int = Field(
        50_000,
        ge=1,
        le=10_000_000,
        description="Spans received but not yet committed; a request that would pass it gets 503 and Retry-After.",
    )
    max_write_spans: int = Field(
        5_000,
        ge=1,
        le=100_000,
        description="Most spans the writer commits in one transaction (several requests coalesced).",
    )
    retry_after_s: int = Field(1, ge=1, le=3600, description="The Retry-After of a 503 when the backlog is full.")
    retention_hours: int = Field(168, ge=1, le=24 * 3650, description="Traces that started longer ago are deleted.")
    max_spans: int = Field(
        2_000_000, ge=1, le=10_000_000_000, description="Above this many stored spans the oldest traces are deleted."
    )
    retention_interval_s: float = Field(60.0, gt=0, le=86_400, description="Seconds between two retention rounds.")
    max_attributes: int = Field(128, ge=1, le=10_000, description="Attributes kept per span (and per event).")
    max_attribute_value_length: int = Field(
        1024, ge=16, le=1_000_000, description="Longest string attribute value kept; longer ones are truncated."
    )
    max_events: int = Field(128, ge=0, le=10_000, description="Events kept per span.")
