"""The model API's model-management routes (seed 000's ModelAPIClient); predictions come from mlsec.serving."""

from typing import Annotated

import anyio
from fastapi import APIRouter, Path

from mlsec.services.model_api.schemas import (
    BatchLoadRequest,
    BatchLoadResponse,
    LoadRequest,
    LoadResult,
    ModelDetail,
    ModelList,
    UnloadResponse,
    WarmCacheResponse,
)
from mlsec.services.model_api.service import load_and_describe, warm
from mlsec.serving.errors import ServingError
from mlsec.serving.http_errors import MODEL_ERRORS
from mlsec.serving.http_routes import ServingDep
from mlsec.serving.http_schemas import NAME, loaded_read
from mlsec.serving.model import resolve_version

router = APIRouter(prefix="/models", tags=["models"])
ModelName = Annotated[str, Path(pattern=NAME)]


@router.get("", response_model=ModelList)
async def get_models(serving: ServingDep) -> ModelList:
    """The models loaded now, with their versions, aliases and usage."""
    models = [loaded_read(info) for info in serving.repository.loaded()]
    return ModelList(models=models, count=len(models), default_model=serving.settings.default_model)


@router.get("/{model_name}", response_model=ModelDetail, responses=MODEL_ERRORS)
async def get_model(model_name: ModelName, serving: ServingDep) -> ModelDetail:
    """One model: the version its default alias points to, and which versions are loaded; 404 when unknown."""
    alias = serving.settings.default_alias
    version = await anyio.to_thread.run_sync(
        lambda: resolve_version(serving.repository.tracking_uri, model_name, None, default_alias=alias)
    )
    loaded = [loaded_read(i) for i in serving.repository.loaded() if i.name == model_name]
    return ModelDetail(
        name=model_name, default_alias=alias, default_version=version, loaded=bool(loaded), loaded_versions=loaded
    )


@router.post("/load", response_model=LoadResult, responses=MODEL_ERRORS)
async def load_model(request: LoadRequest, serving: ServingDep) -> LoadResult:
    """Load a model version (or alias) now, so that its first prediction does not wait."""
    model = await load_and_describe(serving, request.model_name, request.version)
    return LoadResult(model_name=request.model_name, version=model.version, status="loaded", model=model)


@router.post("/unload", response_model=UnloadResponse, responses=MODEL_ERRORS)
async def unload_model(request: LoadRequest, serving: ServingDep) -> UnloadResponse:
    """Unload a model (every loaded version, or the one given) after its requests in flight finish."""
    versions = await serving.repository.unload(request.model_name, request.version)
    return UnloadResponse(model_name=request.model_name, unloaded_versions=versions)


@router.post("/batch-load", response_model=BatchLoadResponse)
async def batch_load_models(request: BatchLoadRequest, serving: ServingDep) -> BatchLoadResponse:
    """Load several models; each one's failure is reported without stopping the others."""
    results = []
    for item in request.models:
        try:
            model = await load_and_describe(serving, item.model_name, item.version)
        except ServingError as exc:
            results.append(
                LoadResult(model_name=item.model_name, version=item.version, status="failed", error=str(exc))
            )
        else:
            results.append(LoadResult(model_name=item.model_name, version=model.version, status="loaded", model=model))
    failed = sum(r.status == "failed" for r in results)
    return BatchLoadResponse(results=results, loaded=len(results) - failed, failed=failed)


@router.post("/warm-cache/{model_name}", response_model=WarmCacheResponse, responses=MODEL_ERRORS)
async def warm_cache(model_name: ModelName, serving: ServingDep) -> WarmCacheResponse:
    """Load a model's champion and run one prediction through it, so real traffic meets a warm model."""
    return await warm(serving, model_name)
