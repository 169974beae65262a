"""The cache's configuration: its policy (memory budget, idle TTL, preloads), changed at run time and kept."""

from fastapi import APIRouter

from mlsec.core.app import SessionDep
from mlsec.services.model_cache.dependencies import ServingDep
from mlsec.services.model_cache.schemas.config import CacheConfigBody, CacheConfigRead
from mlsec.services.model_cache.service import config as configs

router = APIRouter(tags=["cache"])


@router.get("/config", response_model=CacheConfigRead)
async def get_config(session: SessionDep, serving: ServingDep) -> CacheConfigRead:
    """The memory budget, preload list and idle TTL in force."""
    row = await configs.get(session)
    policy = serving.repository.policy
    budget = (policy.memory_budget_bytes or 0) / configs.MB
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
    row = await configs.update(session, config)
    serving.repository.set_policy(configs.policy_of(config))
    return CacheConfigRead(**config.model_dump(), updated_at=row.updated_at)
