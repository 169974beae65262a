"""Seed 004's system shapes: the root, the health check and the configuration summary."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ServiceRoot(BaseModel):
    message: str
    status: str
    version: str
    docs: str


class ControlTowerHealth(BaseModel):
    """The seed's health (`mlflow_connection`, `experiments_count`) plus every service's common fields."""

    status: str = Field(
        description="healthy, or degraded while MLflow cannot be reached (answers come from the cache)."
    )
    service: str
    version: str
    timestamp: datetime
    uptime_seconds: float
    mlflow_connection: str = Field(description="connected or disconnected.")
    experiments_count: int | None = Field(description="From the snapshot; null before MLflow was ever read.")
    cache_stale: bool
    cache_age_minutes: float | None


class MlflowConfig(BaseModel):
    tracking_uri: str
    authentication: bool


class ApiConfig(BaseModel):
    host: str
    port: int
    version: str


class FeaturesConfig(BaseModel):
    mock_data_enabled: bool
    debug_endpoints_enabled: bool
    cache_enabled: bool
    cache_persistence_enabled: bool
    event_refresh: bool


class ValidationConfig(BaseModel):
    mlflow_configured: bool
    api_port_valid: bool
    log_level_valid: bool


class CacheConfig(BaseModel):
    refresh_interval_minutes: float
    timeout_seconds: float
    max_models_returned: int
    cache_directory: str
    max_age_hours: float


class ConfigRead(BaseModel):
    """The effective configuration; no secret appears in it (`authentication` only says whether one is set)."""

    mlflow: MlflowConfig
    api: ApiConfig
    features: FeaturesConfig
    validation: ValidationConfig
    cache: CacheConfig
