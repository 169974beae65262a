"""Seed 004's cache and dashboard shapes, with what a stale answer must say: since when, and why."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Persistence(BaseModel):
    enabled: bool
    cache_directory: str
    cache_file_exists: bool
    cache_file_age_hours: float | None
    cache_file_size_bytes: int | None
    max_age_hours: float


class CacheStats(BaseModel):
    total_models: int = Field(description="Registered model versions in the snapshot (the seed's ModelInfo count).")
    registered_models: int
    models_by_stage: dict[str, int]
    last_refresh: datetime | None
    is_refreshing: bool
    cache_age_minutes: float | None
    is_stale: bool = Field(description="True when the snapshot could not be confirmed by MLflow lately.")
    stale_reason: str | None
    source: str = Field(description="mlflow (read by this process), file (loaded at start) or none.")
    last_error: str | None = Field(description="Why the last refresh failed; null after a good one.")
    last_refresh_seconds: float | None = Field(description="How long the last full read of MLflow took.")
    event_refreshes: int = Field(description="Models refreshed at once because an event said they changed.")
    event_stream: str = Field(description="connected, disconnected (events are missed until it reconnects) or off.")
    persistence: Persistence


class TrackingInfo(BaseModel):
    total_models: int
    production_models: int
    staging_models: int
    monitored_models: int


class SystemStatus(BaseModel):
    mlflow_connected: bool
    tracking_method: str = Field(description="cached (the snapshot) or direct (ENABLE_CACHE=false).")
    cache_enabled: bool


class CacheInfo(BaseModel):
    cache_info: CacheStats
    tracking_info: TrackingInfo
    system_status: SystemStatus


class RefreshResult(BaseModel):
    message: str
    models_synced: int
    timestamp: datetime
    cache_stats: CacheStats


class ClearResult(BaseModel):
    message: str
    timestamp: datetime
    note: str


class DashboardSummary(BaseModel):
    total_experiments: int
    active_experiments: int
    total_models: int
    registered_models: int
    monitored_models: int
    production_models: int
    staging_models: int
    total_runs: int
    last_updated: datetime | None = Field(description="When the snapshot these figures come from was taken.")
    is_stale: bool
