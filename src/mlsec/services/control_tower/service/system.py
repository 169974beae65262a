"""The root, the health check and the effective configuration (also printed by `mlsec serve control-tower
--config`): no secret ever appears in them."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import get_args
from urllib.parse import urlsplit, urlunsplit

from mlsec.client import ServiceCallError
from mlsec.core.services import get_spec
from mlsec.core.settings import LogLevel, Settings
from mlsec.services.control_tower.schemas.system import (
    ApiConfig,
    CacheConfig,
    ConfigRead,
    ControlTowerHealth,
    FeaturesConfig,
    MlflowConfig,
    ServiceRoot,
    ValidationConfig,
)
from mlsec.services.control_tower.settings import ControlTowerSettings
from mlsec.services.control_tower.state import ControlTower

SERVICE = "control-tower"
TITLE = "mlsec MLOps Control Tower API"


def without_credentials(url: str) -> str:
    """A URL with any user:password@ taken out (a tracking URI may carry them)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def effective_config(settings: Settings, own: ControlTowerSettings) -> ConfigRead:
    port = settings.port_for(get_spec(SERVICE))
    return ConfigRead(
        mlflow=MlflowConfig(
            tracking_uri=without_credentials(settings.mlflow_uri),
            authentication=own.mlflow_username is not None or "@" in urlsplit(settings.mlflow_uri).netloc,
        ),
        api=ApiConfig(host=settings.host, port=port, version=settings.version),
        features=FeaturesConfig(
            mock_data_enabled=own.enable_mock_data,
            debug_endpoints_enabled=own.enable_debug_endpoints,
            cache_enabled=own.enable_cache,
            cache_persistence_enabled=own.enable_cache_persistence,
            event_refresh=own.event_refresh,
        ),
        validation=ValidationConfig(
            mlflow_configured=bool(settings.mlflow_uri),
            api_port_valid=1 <= port <= 65535,
            log_level_valid=settings.log_level in get_args(LogLevel),
        ),
        cache=CacheConfig(
            refresh_interval_minutes=own.cache_refresh_interval_minutes,
            timeout_seconds=own.cache_timeout_seconds,
            max_models_returned=own.max_models_returned,
            cache_directory=str(own.cache_file(settings.home).parent),
            max_age_hours=own.cache_max_age_hours,
        ),
    )


def root(tower: ControlTower) -> ServiceRoot:
    ready = tower.cache.snapshot is not None or not tower.settings.enable_cache
    return ServiceRoot(
        message=TITLE, status="ready" if ready else "starting", version=tower.ctx.settings.version, docs="/docs"
    )


async def health(tower: ControlTower) -> ControlTowerHealth:
    """The seed's health: MLflow asked now (its /health, with the health timeout), the rest from the cache."""
    try:
        connected = (await tower.reader.mlflow.get_health()).get("status") == "healthy"
    except ServiceCallError:
        connected = False
    snapshot = tower.cache.snapshot
    freshness = tower.cache.freshness()
    return ControlTowerHealth(
        status="healthy",  # it answers, from the cache when MLflow does not: mlflow_connection says which
        service=SERVICE,
        version=tower.ctx.settings.version,
        timestamp=datetime.now(UTC),
        uptime_seconds=round(time.monotonic() - tower.started, 3),
        mlflow_connection="connected" if connected else "disconnected",
        experiments_count=len(snapshot.experiments) if snapshot else None,
        cache_stale=freshness.stale if tower.settings.enable_cache else False,
        cache_age_minutes=round(freshness.age_seconds / 60, 2) if freshness.age_seconds is not None else None,
    )
