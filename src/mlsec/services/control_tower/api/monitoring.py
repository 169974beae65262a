"""Monitored model versions: list (all, classifiers, regressors), add, remove, status (seed 004)."""

from fastapi import APIRouter, Response

from mlsec.core.limits import ModelNamePath, ModelVersionPath
from mlsec.core.openapi import error_responses
from mlsec.services.control_tower.dependencies import CallerDep, ControlTowerDep, SessionDep
from mlsec.services.control_tower.schemas.models import ModelInfo
from mlsec.services.control_tower.schemas.monitoring import MonitorAdded, MonitorRemoved, MonitorRequest, MonitorStatus
from mlsec.services.control_tower.service import monitoring
from mlsec.services.control_tower.service.answers import mark

router = APIRouter(tags=["monitoring"])
VERSION = "/models/{model_name}/{model_version}"


async def _monitored(tower: ControlTowerDep, response: Response, model_type: str | None) -> list[ModelInfo]:
    views = await tower.current_views()
    mark(response, tower)
    keys = [key for key, kind in tower.monitored_types.items() if model_type is None or kind == model_type]
    return [views.infos[key] for key in keys if key in views.infos]


@router.get("/models/monitored", response_model=list[ModelInfo], responses=error_responses(503))
async def get_monitored(tower: ControlTowerDep, response: Response) -> list[ModelInfo]:
    """Every monitored version still in the registry, with its registry data."""
    return await _monitored(tower, response, None)


@router.get("/models/monitored/classifier", response_model=list[ModelInfo], responses=error_responses(503))
async def get_monitored_classifiers(tower: ControlTowerDep, response: Response) -> list[ModelInfo]:
    """Monitored versions of type classifier."""
    return await _monitored(tower, response, "classifier")


@router.get("/models/monitored/regressor", response_model=list[ModelInfo], responses=error_responses(503))
async def get_monitored_regressors(tower: ControlTowerDep, response: Response) -> list[ModelInfo]:
    """Monitored versions of type regressor."""
    return await _monitored(tower, response, "regressor")


@router.post(
    f"{VERSION}/monitor", status_code=201, response_model=MonitorAdded, responses=error_responses(400, 404, 503)
)
async def add_monitoring(
    model_name: ModelNamePath,
    model_version: ModelVersionPath,
    body: MonitorRequest,
    session: SessionDep,
    tower: ControlTowerDep,
    caller: CallerDep,
) -> MonitorAdded:
    """Monitor a version (an alias names its current version): 400 for a bad type or one already monitored,
    404 when MLflow does not have it."""
    row = await monitoring.create(session, tower, model_name, model_version, body, caller=caller)
    return MonitorAdded(
        message=f"Model {model_name} v{row.model_version} added to monitoring as {row.model_type}",
        model_name=model_name,
        model_version=row.model_version,
        model_type=row.model_type,
        registered_at=row.registered_at,
        registered_by=row.registered_by,
        added_by=row.added_by,
    )


@router.delete(f"{VERSION}/monitor", response_model=MonitorRemoved, responses=error_responses(404))
async def remove_monitoring(
    model_name: ModelNamePath, model_version: ModelVersionPath, session: SessionDep, tower: ControlTowerDep
) -> MonitorRemoved:
    """Stop monitoring a version; 404 when it is not monitored."""
    number = await monitoring.delete(session, tower, model_name, model_version)
    return MonitorRemoved(
        message=f"Model {model_name} v{number} removed from monitoring",
        model_name=model_name,
        model_version=number,
        removed_at=monitoring.now(),
    )


@router.get(f"{VERSION}/monitor/status", response_model=MonitorStatus)
async def get_monitoring_status(
    model_name: ModelNamePath, model_version: ModelVersionPath, tower: ControlTowerDep
) -> MonitorStatus:
    """Whether a version (or the version an alias names) is monitored."""
    number = monitoring.version_number(tower, model_name, model_version)
    return MonitorStatus(
        model_name=model_name, model_version=number, is_monitored=(model_name, number) in tower.monitored_types
    )
