"""The cache's event log: what it did to models (loaded, load_failed, unloaded, evicted, swapped)."""

from typing import Annotated

from fastapi import APIRouter, Query

from mlsec.core.app import SessionDep
from mlsec.core.limits import ModelNamePath
from mlsec.services.model_cache.schemas.events import CacheEventList, CacheEventRead
from mlsec.services.model_cache.service import events

router = APIRouter(tags=["cache"])
Limit = Annotated[int, Query(ge=1, le=1000)]
Kind = Annotated[str | None, Query(pattern="^(loaded|load_failed|unloaded|evicted|swapped)$")]


@router.get("/logs", response_model=CacheEventList)
async def get_logs(session: SessionDep, kind: Kind = None, limit: Limit = 100) -> CacheEventList:
    """What the cache did to models (loaded, evicted, swapped, failed), newest first."""
    rows = await events.get_all(session, model_name=None, kind=kind, limit=limit)
    return CacheEventList(events=[CacheEventRead.model_validate(r) for r in rows], count=len(rows))


@router.get("/models/{model_name}/logs", response_model=CacheEventList)
async def get_model_logs(
    model_name: ModelNamePath, session: SessionDep, kind: Kind = None, limit: Limit = 100
) -> CacheEventList:
    """The same, for one model."""
    rows = await events.get_all(session, model_name=model_name, kind=kind, limit=limit)
    return CacheEventList(events=[CacheEventRead.model_validate(r) for r in rows], count=len(rows))
