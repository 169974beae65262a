"""`/`, `/health` and `/config` (seed 004)."""

from fastapi import APIRouter

from mlsec.services.control_tower.dependencies import ControlTowerDep
from mlsec.services.control_tower.schemas.system import ConfigRead, ControlTowerHealth, ServiceRoot
from mlsec.services.control_tower.service import system

router = APIRouter(tags=["system"])


@router.get("/", response_model=ServiceRoot)
async def get_root(tower: ControlTowerDep) -> ServiceRoot:
    """What this is; `status` is ready once there is a registry to answer from."""
    return system.root(tower)


@router.get("/health", response_model=ControlTowerHealth)
async def get_health(tower: ControlTowerDep) -> ControlTowerHealth:
    """The process answers; whether MLflow does now, and how old the cached registry is."""
    return await system.health(tower)


@router.get("/config", response_model=ConfigRead)
async def get_config(tower: ControlTowerDep) -> ConfigRead:
    """The effective configuration, without secrets."""
    return system.effective_config(tower.ctx.settings, tower.settings)
