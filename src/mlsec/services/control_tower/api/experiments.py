"""MLflow experiments and their runs (seed 004)."""

from fastapi import APIRouter, Response

from mlsec.core.openapi import error_responses
from mlsec.services.control_tower.dependencies import ControlTowerDep, ExperimentIdPath, RunLimit
from mlsec.services.control_tower.schemas.experiments import ExperimentInfo, RunInfo
from mlsec.services.control_tower.service import experiments
from mlsec.services.control_tower.service.answers import mark

router = APIRouter(tags=["experiments"], responses=error_responses(503))


@router.get("/experiments", response_model=list[ExperimentInfo])
async def get_experiments(tower: ControlTowerDep, response: Response) -> list[ExperimentInfo]:
    """Every experiment, active and deleted, with its run count."""
    snapshot = (await tower.current_views()).snapshot
    mark(response, tower)
    return [ExperimentInfo.model_validate(e, from_attributes=True) for e in experiments.get_all(snapshot)]


@router.get("/runs/{experiment_id}", response_model=list[RunInfo], responses=error_responses(404))
async def get_runs(
    experiment_id: ExperimentIdPath, tower: ControlTowerDep, response: Response, limit: RunLimit = 100
) -> list[RunInfo]:
    """The newest runs of an experiment with their metrics, params and tags; 404 for an unknown experiment."""
    runs = await experiments.get_runs(tower, experiment_id, limit)
    mark(response, tower)
    return [RunInfo.model_validate(r, from_attributes=True) for r in runs]
