"""The cache's contents (seed 000's ModelCacheClient): what it holds, loading and unloading models, its
counters; predictions come from mlsec.serving."""

from fastapi import APIRouter, Request

from mlsec.core.limits import ModelNamePath
from mlsec.services.model_cache.dependencies import ServingDep
from mlsec.services.model_cache.schemas.cache import (
    CachedModels,
    CacheInfo,
    CacheStats,
    ClearResponse,
    LoadVersion,
    UnloadResponse,
)
from mlsec.services.model_cache.service import cache
from mlsec.serving.errors import MODEL_ERRORS

router = APIRouter(tags=["cache"])


@router.get("/", response_model=CacheInfo)
async def get_root(request: Request, serving: ServingDep) -> CacheInfo:
    """What the cache holds and how well it serves."""
    stats = serving.repository.stats()
    return CacheInfo(
        service="model-cache",
        version=request.app.version,
        models_loaded=len(serving.repository.loaded()),
        memory_used_bytes=stats["memory_used_bytes"],
        memory_budget_bytes=stats["memory_budget_bytes"],
        hit_rate=cache.hit_rate(stats),
    )


@router.get("/models", response_model=CachedModels)
async def get_models(serving: ServingDep) -> CachedModels:
    """The models in the cache, with size, load time and use."""
    models = cache.get_all(serving)
    return CachedModels(models=models, count=len(models))


@router.post("/models/{model_name}/load", response_model=CachedModels, responses=MODEL_ERRORS)
async def load_model(model_name: ModelNamePath, serving: ServingDep, body: LoadVersion | None = None) -> CachedModels:
    """Load a model (its champion, or the version given) into the cache now."""
    model = await serving.repository.load(model_name, body.version if body else None)
    models = cache.get_all(serving, name=model.name, version=model.version)
    return CachedModels(models=models, count=len(models))


@router.post("/models/{model_name}/unload", response_model=UnloadResponse, responses=MODEL_ERRORS)
async def unload_model(
    model_name: ModelNamePath, serving: ServingDep, body: LoadVersion | None = None
) -> UnloadResponse:
    """Drop a model from the cache (after its requests in flight finish); 404 when it is not cached."""
    versions = await serving.repository.unload(model_name, body.version if body else None)
    return UnloadResponse(model_name=model_name, unloaded_versions=versions)


@router.get("/stats", response_model=CacheStats)
async def get_stats(serving: ServingDep) -> CacheStats:
    """Hits, misses, evictions, memory per model and load times."""
    stats = serving.repository.stats()
    return CacheStats(**stats, hit_rate=cache.hit_rate(stats))


@router.post("/clear-cache", response_model=ClearResponse)
async def clear_cache(serving: ServingDep) -> ClearResponse:
    """Unload every model (each after its requests in flight finish)."""
    unloaded = [{"model_name": name, "version": version} for name, version in await serving.repository.clear()]
    return ClearResponse(unloaded=unloaded, count=len(unloaded))
