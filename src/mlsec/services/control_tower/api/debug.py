"""`/debug/monitored` (seed 004), served only when ENABLE_DEBUG_ENDPOINTS is true."""

from fastapi import APIRouter

from mlsec.services.control_tower.dependencies import ControlTowerDep, SessionDep
from mlsec.services.control_tower.schemas.monitoring import DebugMonitored, MonitoredEntry
from mlsec.services.control_tower.service import monitoring

router = APIRouter(tags=["debug"])


@router.get("/debug/monitored", response_model=DebugMonitored)
async def get_debug_monitored(session: SessionDep, tower: ControlTowerDep) -> DebugMonitored:
    """The monitored rows as stored, whether each is still in the registry, and their registry data."""
    rows = await monitoring.get_all(session)
    infos = tower.views.infos if tower.views else {}
    return DebugMonitored(
        monitored_count=len(rows),
        monitored_list=[
            MonitoredEntry(
                model_name=r.model_name,
                model_version=r.model_version,
                model_type=r.model_type,
                registered_at=r.registered_at,
                registered_by=r.registered_by,
                added_by=r.added_by,
                run_id=r.run_id,
                in_registry=(r.model_name, r.model_version) in infos,
            )
            for r in rows
        ],
        mlflow_status="connected" if tower.cache.mlflow_connected else "disconnected",
        model_details=[
            infos[(r.model_name, r.model_version)].model_dump(mode="json")
            for r in rows
            if (r.model_name, r.model_version) in infos
        ],
    )
