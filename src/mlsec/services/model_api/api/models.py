"""The model API's model-management routes (seed 000's ModelAPIClient); predictions come from mlsec.serving."""

from fastapi import APIRouter

from mlsec.core.limits import ModelNamePath
from mlsec.services.model_api.dependencies import ServingDep
from mlsec.services.model_api.schemas.models import (
    BatchLoadRequest,
    BatchLoadResponse,
    LoadRequest,
    LoadResult,
    ModelDetail,
    ModelList,
    UnloadResponse,
    WarmCacheResponse,
)
from mlsec.services.model_api.service import models
from mlsec.serving.errors import MODEL_ERRORS

router = APIRouter(prefix="/models", tags=["models"])


@router.get("", response_model=ModelList)
async def get_models(serving: ServingDep) -> ModelList:
    """The models loaded now, with their versions, aliases and usage."""
    loaded = models.get_all(serving)
    return ModelList(models=loaded, count=len(loaded), default_model=serving.settings.default_model)


@router.get("/{model_name}", response_model=ModelDetail, responses=MODEL_ERRORS)
async def get_model(model_name: ModelNamePath, serving: ServingDep) -> ModelDetail:
    """One model: the version its default alias points to, and which versions are loaded; 404 when unknown."""
    return await models.get_or_raise(serving, model_name)


@router.post("/load", response_model=LoadResult, responses=MODEL_ERRORS)
async def load_model(request: LoadRequest, serving: ServingDep) -> LoadResult:
    """Load a model version (or alias) now, so that its first prediction does not wait."""
    model = await models.load_and_describe(serving, request.model_name, request.version)
    return LoadResult(model_name=request.model_name, version=model.version, status="loaded", model=model)


@router.post("/unload", response_model=UnloadResponse, responses=MODEL_ERRORS)
async def unload_model(request: LoadRequest, serving: ServingDep) -> UnloadResponse:
    """Unload a model (every loaded version, or the one given) after its requests in flight finish."""
    versions = await serving.repository.unload(request.model_name, request.version)
    return UnloadResponse(model_name=request.model_name, unloaded_versions=versions)


@router.post("/batch-load", response_model=BatchLoadResponse)
async def batch_load_models(request: BatchLoadRequest, serving: ServingDep) -> BatchLoadResponse:
    """Load several models; each one's failure is reported without stopping the others."""
    return await models.batch_load(serving, request.models)


@router.post("/warm-cache/{model_name}", response_model=WarmCacheResponse, responses=MODEL_ERRORS)
async def warm_cache(model_name: ModelNamePath, serving: ServingDep) -> WarmCacheResponse:
    """Load a model's champion and run one prediction through it, so real traffic meets a warm model."""
    return await models.warm(serving, model_name)
