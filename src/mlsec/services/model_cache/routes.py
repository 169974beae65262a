"""The model cache's routes (seed 000's ModelCacheClient); predictions come from mlsec.serving."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from mlsec.core.app import SessionDep
from mlsec.services.model_cache import service
from mlsec.services.model_cache.schemas import (
    CacheConfigBody,
    CacheConfigRead,
    CachedModels,
    CacheEventList,
    CacheEventRead,
    CacheInfo,
    CacheStats,
    ClearResponse,
    LoadVersion,
    UnloadResponse,
)
from mlsec.serving.http_errors import MODEL_ERRORS
from mlsec.serving.http_routes import ServingDep
from mlsec.serving.http_schemas import NAME, loaded_read

router = APIRouter(tags=["cache"])
ModelName = Annotated[str, Path(pattern=NAME)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Kind = Annotated[str | None, Query(pattern="^(loaded|load_failed|unloaded|evicted|swapped)$")]


def _hit_rate(stats: dict[str, int]) -> float | None:
    total = stats["hits"] + stats["misses"]
    return round(stats["hits"] / total, 4) if total else None


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
        hit_rate=_hit_rate(stats),
    )


@router.get("/models", response_model=CachedModels)
async def get_models(serving: ServingDep) -> CachedModels:
    """The models in the cache, with size, load time and use."""
    models = [loaded_read(info) for info in serving.repository.loaded()]
    return CachedModels(models=models, count=len(models))


@router.post("/models/{model_name}/load", response_model=CachedModels, responses=MODEL_ERRORS)
async def load_model(model_name: ModelName, serving: ServingDep, body: LoadVersion | None = None) -> CachedModels:
    """Load a model (its champion, or the version given) into the cache now."""
    model = await serving.repository.load(model_name, body.version if body else None)
    models = [
        loaded_read(i) for i in serving.repository.loaded() if i.name == model.name and i.version == model.version
    ]
    return CachedModels(models=models, count=len(models))


@router.post("/models/{model_name}/unload", response_model=UnloadResponse, responses=MODEL_ERRORS)
async def unload_model(model_name: ModelName, serving: ServingDep, body: LoadVersion | None = None) -> UnloadResponse:
    """Drop a model from the cache (after its requests in flight finish); 404 when it is not cached."""
    versions = await serving.repository.unload(model_name, body.version if body else None)
    return UnloadResponse(model_name=model_name, unloaded_versions=versions)


@router.get("/stats", response_model=CacheStats)
async def get_stats(serving: ServingDep) -> CacheStats:
    """Hits, misses, evictions, memory per model and load times."""
    stats = serving.repository.stats()
    return CacheStats(**stats, hit_rate=_hit_rate(stats))


@router.post("/clear-cache", response_model=ClearResponse)
async def clear_cache(serving: ServingDep) -> ClearResponse:
    """Unload every model (each after its requests in flight finish)."""
    unloaded = [{"model_name": name, "version": version} for name, version in await serving.repository.clear()]
    return ClearResponse(unloaded=unloaded, count=len(unloaded))


@router.get("/config", response_model=CacheConfigRead)
async def get_config(session: SessionDep, serving: ServingDep) -> CacheConfigRead:
    """The memory budget, preload list and idle TTL in force."""
    row = await service.get_config_row(session)
    policy = serving.repository.policy
    budget = (policy.memory_budget_bytes or 0) / service.MB
    return CacheConfigRead(
        memory_budget_mb=budget,
        idle_ttl_seconds=policy.idle_ttl_seconds,
        preload=policy.preload,
        preload_champions=policy.preload_champions,
        updated_at=row.updated_at if row else None,
    )


@router.put("/config", response_model=CacheConfigRead)
async def put_config(config: CacheConfigBody, session: SessionDep, serving: ServingDep) -> CacheConfigRead:
    """Change the policy now (a smaller budget evicts at once) and keep it across restarts."""
    row = await service.put_config(session, config)
    serving.repository.set_policy(service.policy_of(config))
    return CacheConfigRead(**config.model_dump(), updated_at=row.updated_at)


@router.get("/logs", response_model=CacheEventList)
async def get_logs(session: SessionDep, kind: Kind = None, limit: Limit = 100) -> CacheEventList:
    """What the cache did to models (loaded, evicted, swapped, failed), newest first."""
    rows = await service.get_events(session, model_name=None, kind=kind, limit=limit)
    return CacheEventList(events=[CacheEventRead.model_validate(r) for r in rows], count=len(rows))


@router.get("/models/{model_name}/logs", response_model=CacheEventList)
async def get_model_logs(
    model_name: ModelName, session: SessionDep, kind: Kind = None, limit: Limit = 100
) -> CacheEventList:
    """The same, for one model."""
    rows = await service.get_events(session, model_name=model_name, kind=kind, limit=limit)
    return CacheEventList(events=[CacheEventRead.model_validate(r) for r in rows], count=len(rows))
