"""The registry cache (info, refresh, clear the file) and the dashboard summary (seed 004)."""

from datetime import UTC, datetime

from fastapi import APIRouter, Response

from mlsec.core.openapi import error_responses
from mlsec.services.control_tower.dependencies import ControlTowerDep
from mlsec.services.control_tower.schemas.cache import CacheInfo, ClearResult, DashboardSummary, RefreshResult
from mlsec.services.control_tower.service import status
from mlsec.services.control_tower.service.answers import mark

router = APIRouter(tags=["cache"])


@router.get("/cache/info", response_model=CacheInfo)
async def get_cache_info(tower: ControlTowerDep) -> CacheInfo:
    """The snapshot's size, stages, age, freshness and file; the registry's counts; whether MLflow answers."""
    return status.cache_info(tower)


@router.post("/cache/refresh", response_model=RefreshResult, responses=error_responses(503))
async def refresh_cache(tower: ControlTowerDep) -> RefreshResult:
    """Read MLflow now and replace the snapshot (and its file); 503 when MLflow cannot be read (the old
    snapshot stays and keeps being served, marked stale)."""
    snapshot = await tower.cache.refresh()
    return RefreshResult(
        message="Cache refreshed successfully",
        models_synced=sum(len(m.versions) for m in snapshot.models.values()),
        timestamp=snapshot.taken_at,
        cache_stats=status.cache_stats(tower),
    )


@router.delete("/cache/clear", response_model=ClearResult)
async def clear_cache(tower: ControlTowerDep) -> ClearResult:
    """Delete the snapshot file; the snapshot in memory keeps answering until the next refresh."""
    removed = tower.cache.clear_file()
    return ClearResult(
        message="Persistent cache cleared successfully" if removed else "There was no persistent cache file",
        timestamp=datetime.now(UTC),
        note="Next startup will fetch fresh data from MLflow",
    )


@router.get("/dashboard/summary", response_model=DashboardSummary, responses=error_responses(503))
async def get_dashboard_summary(tower: ControlTowerDep, response: Response) -> DashboardSummary:
    """Experiments, runs, model versions by stage and monitored models, in one answer."""
    views = await tower.current_views()
    mark(response, tower)
    return status.dashboard_summary(tower, views)
