"""Registered model versions by stage, one model's versions, and its metrics over time (seed 004)."""

from fastapi import APIRouter, Response

from mlsec.core.limits import ModelNamePath
from mlsec.core.openapi import error_responses
from mlsec.services.control_tower.dependencies import ControlTowerDep, Days
from mlsec.services.control_tower.errors import ModelNotFoundError
from mlsec.services.control_tower.schemas.models import ModelInfo, ModelVersionInfo, VersionDrift
from mlsec.services.control_tower.service import drift
from mlsec.services.control_tower.service.answers import UNAVAILABLE_HEADER, json_answer, mark

router = APIRouter(tags=["models"], responses=error_responses(503))  # no snapshot yet and MLflow down


@router.get("/models", response_model=list[ModelInfo])
async def get_production_models(tower: ControlTowerDep) -> Response:
    """Versions in Production (holding champion, or MLflow's own stage)."""
    return json_answer(tower, (await tower.current_views()).production_json)


@router.get("/models/all", response_model=list[ModelInfo])
async def get_all_models(tower: ControlTowerDep) -> Response:
    """Every version of every registered model, whatever its stage (at most MAX_MODELS_RETURNED)."""
    return json_answer(tower, (await tower.current_views()).all_json)


@router.get("/models/staging", response_model=list[ModelInfo])
async def get_staging_models(tower: ControlTowerDep) -> Response:
    """Versions in Staging (holding challenger, or MLflow's own stage)."""
    return json_answer(tower, (await tower.current_views()).staging_json)


@router.get("/models/production", response_model=list[ModelInfo])
async def get_production_models_explicit(tower: ControlTowerDep) -> Response:
    """The same as `/models`."""
    return json_answer(tower, (await tower.current_views()).production_json)


@router.get("/model/{model_name}/versions", response_model=list[ModelVersionInfo], responses=error_responses(404))
async def get_model_versions(model_name: ModelNamePath, tower: ControlTowerDep) -> Response:
    """Every version of one model, newest first; 404 when MLflow does not have the model."""
    body = (await tower.current_views()).versions_json.get(model_name)
    if body is None:
        raise ModelNotFoundError(model_name)
    return json_answer(tower, body)


@router.get("/model/{model_name}/drift", response_model=list[VersionDrift], responses=error_responses(404))
async def get_model_drift(
    model_name: ModelNamePath, tower: ControlTowerDep, response: Response, days: Days = 30
) -> list[VersionDrift]:
    """Each version's metrics over the last `days`: its training run's, and its production performance from
    labelled feedback (analytics). `X-Mlsec-Unavailable` names a source that could not be read."""
    versions, unavailable = await drift.get_or_raise(tower, model_name, days)
    mark(response, tower)
    if unavailable:
        response.headers[UNAVAILABLE_HEADER] = ",".join(unavailable)
    return versions
