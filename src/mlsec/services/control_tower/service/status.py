"""The figures about the registry and the cache: seed 004's cache info, refresh answer and dashboard summary."""

from __future__ import annotations

from mlsec.services.control_tower.schemas.cache import (
    CacheInfo,
    CacheStats,
    DashboardSummary,
    Persistence,
    SystemStatus,
    TrackingInfo,
)
from mlsec.services.control_tower.service.views import Views
from mlsec.services.control_tower.state import ControlTower


def _event_stream(tower: ControlTower) -> str:
    if tower.subscription is None:
        return "off"
    return "connected" if tower.subscription.connected else "disconnected"


def cache_stats(tower: ControlTower) -> CacheStats:
    cache = tower.cache
    views = tower.views
    freshness = cache.freshness()
    exists, age_hours, size = cache.file_stats()
    directory = cache.path.parent if cache.path else tower.settings.cache_file(tower.ctx.settings.home).parent
    return CacheStats(
        total_models=len(views.infos) if views else 0,
        registered_models=len(views.snapshot.models) if views else 0,
        models_by_stage=dict(views.by_stage) if views else {},
        last_refresh=cache.snapshot.taken_at if cache.snapshot else None,
        is_refreshing=cache.is_refreshing,
        cache_age_minutes=round(freshness.age_seconds / 60, 2) if freshness.age_seconds is not None else None,
        is_stale=freshness.stale,
        stale_reason=freshness.reason,
        source=cache.source,
        last_error=cache.last_error,
        last_refresh_seconds=cache.snapshot.refresh_seconds if cache.snapshot else None,
        event_refreshes=cache.event_refreshes,
        event_stream=_event_stream(tower),
        persistence=Persistence(
            enabled=cache.path is not None,
            cache_directory=str(directory),
            cache_file_exists=exists,
            cache_file_age_hours=age_hours,
            cache_file_size_bytes=size,
            max_age_hours=tower.settings.cache_max_age_hours,
        ),
    )


def cache_info(tower: ControlTower) -> CacheInfo:
    views = tower.views
    return CacheInfo(
        cache_info=cache_stats(tower),
        tracking_info=TrackingInfo(
            total_models=len(views.infos) if views else 0,
            production_models=views.production_count() if views else 0,
            staging_models=views.staging_count() if views else 0,
            monitored_models=len(tower.monitored_types),
        ),
        system_status=SystemStatus(
            mlflow_connected=tower.cache.mlflow_connected,
            tracking_method="cached" if tower.settings.enable_cache else "direct",
            cache_enabled=tower.settings.enable_cache,
        ),
    )


def dashboard_summary(tower: ControlTower, views: Views) -> DashboardSummary:
    snapshot = views.snapshot
    return DashboardSummary(
        total_experiments=len(snapshot.experiments),
        active_experiments=sum(1 for e in snapshot.experiments if e.lifecycle_stage == "active"),
        total_models=len(views.infos),
        registered_models=len(snapshot.models),
        monitored_models=len(tower.monitored_types),
        production_models=views.production_count(),
        staging_models=views.staging_count(),
        total_runs=snapshot.total_runs,
        last_updated=snapshot.taken_at,
        is_stale=tower.cache.freshness().stale if tower.settings.enable_cache else False,
    )
