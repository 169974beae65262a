"""`/models/*`: the MLflow registry as the training service sees it (a cached snapshot)."""

from typing import Annotated

from fastapi import APIRouter, Query

from mlsec.core.limits import ModelNamePath
from mlsec.core.openapi import error_responses
from mlsec.ml.registry import CHALLENGER, CHAMPION
from mlsec.services.training.dependencies import TrainingDep
from mlsec.services.training.schemas.registry import (
    LatestModelList,
    LatestModelRead,
    ModelList,
    ModelVersionRead,
    RegisteredModelRead,
    RegistryModelRead,
    RegistryRead,
)
from mlsec.services.training.service.registry import ModelInfo, VersionInfo

router = APIRouter(prefix="/models", tags=["models"], responses=error_responses(503))  # MLflow not read yet
Refresh = Annotated[bool, Query(description="Read MLflow now instead of the cached snapshot.")]


def _version(v: VersionInfo) -> ModelVersionRead:
    return ModelVersionRead(
        version=v.version,
        status=v.status,
        stage=v.stage,
        aliases=v.aliases,
        run_id=v.run_id,
        source=v.source,
        created_at=v.created_at,
        tags=v.tags,
    )


def _model(m: ModelInfo) -> RegisteredModelRead:
    return RegisteredModelRead(
        name=m.name,
        description=m.description,
        aliases=m.aliases,
        tags=m.tags,
        latest_version=m.latest_version,
        champion_version=m.aliases.get(CHAMPION),
        challenger_version=m.aliases.get(CHALLENGER),
        updated_at=m.updated_at,
    )


@router.get("/models", response_model=ModelList)
async def get_models(training: TrainingDep, refresh: Refresh = False) -> ModelList:
    """Every registered model with its champion, challenger and latest version."""
    if refresh:
        await training.registry.refresh()
    models = [_model(m) for m in training.registry.get_all()]
    return ModelList(models=models, count=len(models), refreshed_at=training.registry.refreshed_at)


@router.get("/models/{model_name}", response_model=RegistryModelRead)
async def get_model(model_name: ModelNamePath, training: TrainingDep, refresh: Refresh = False) -> RegistryModelRead:
    """One registered model with all its versions; 404 when it is not registered."""
    if refresh:
        await training.registry.refresh()
    model = training.registry.get_or_raise(model_name)
    return RegistryModelRead(**_model(model).model_dump(), versions=[_version(v) for v in model.versions])


@router.get("/model-registry", response_model=RegistryRead)
async def get_model_registry(training: TrainingDep, refresh: Refresh = False) -> RegistryRead:
    """The whole registry: models, versions, aliases and the seeds' stage names."""
    if refresh:
        await training.registry.refresh()
    models = [
        RegistryModelRead(**_model(m).model_dump(), versions=[_version(v) for v in m.versions])
        for m in training.registry.get_all()
    ]
    return RegistryRead(
        models=models,
        count=len(models),
        refreshed_at=training.registry.refreshed_at,
        tracking_uri=training.tracking_uri,
    )


@router.get("/latest-models", response_model=LatestModelList)
async def get_latest_models(training: TrainingDep, refresh: Refresh = False) -> LatestModelList:
    """The newest version of every registered model."""
    if refresh:
        await training.registry.refresh()
    latest = [
        LatestModelRead(
            name=m.name,
            version=v.version,
            stage=v.stage,
            aliases=v.aliases,
            run_id=v.run_id,
            created_at=v.created_at,
            tags=v.tags,
        )
        for m in training.registry.get_all()
        if m.versions
        for v in m.versions[:1]
    ]
    return LatestModelList(models=latest, count=len(latest))
