"""Auto-retrain routes: config, manual triggers, the queue and the history of requests."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query

from mlsec.core.limits import ModelNamePath, ModelNameQuery, Offset
from mlsec.services.analytics.dependencies import AnalyticsDep, SessionDep
from mlsec.services.analytics.schemas.configs import (
    DEFAULT_MODEL,
    AutoRetrainConfigUpdate,
    MonitoringConfigRead,
)
from mlsec.services.analytics.schemas.retrain import (
    AutoRetrainConfigList,
    RetrainHistory,
    RetrainQueue,
    RetrainRequestRead,
    RetrainTrigger,
)
from mlsec.services.analytics.service import configs, retrain

router = APIRouter(tags=["auto-retrain"])


@router.get("/auto-retrain/config", response_model=AutoRetrainConfigList)
async def get_auto_retrain_config(session: SessionDep, model_name: ModelNameQuery = None) -> AutoRetrainConfigList:
    """The defaults and every model's own settings (or the settings that apply to one model)."""
    defaults = await configs.get(session, model_name=DEFAULT_MODEL)
    if model_name is not None:
        return AutoRetrainConfigList(defaults=defaults, models=[await configs.get(session, model_name=model_name)])
    stored = [c for c in await configs.get_all(session) if c.model_name != DEFAULT_MODEL]
    return AutoRetrainConfigList(defaults=defaults, models=stored)


@router.put("/auto-retrain/config", response_model=MonitoringConfigRead)
async def update_auto_retrain_config(body: AutoRetrainConfigUpdate, session: SessionDep) -> MonitoringConfigRead:
    """Store a model's (or the defaults') auto-retrain triggers and limits and promotion criteria."""
    return await configs.update(
        session, model_name=body.model_name, auto_retrain=body.auto_retrain, promotion=body.promotion
    )


@router.post("/auto-retrain/trigger/{model_name}", response_model=RetrainRequestRead)
async def trigger_retrain(
    model_name: ModelNamePath,
    body: RetrainTrigger,
    session: SessionDep,
    analytics: AnalyticsDep,
    background: BackgroundTasks,
) -> RetrainRequestRead:
    """Ask for a retrain now: queued (and started in the background), or skipped with the reason."""
    row = await retrain.create_request(
        session, analytics, model_name=model_name, trigger="manual", reason=body.reason, force=body.force
    )
    if row.status == "queued":
        background.add_task(retrain.dispatch, analytics)  # after the request is committed
    return RetrainRequestRead.model_validate(row)


@router.get("/auto-retrain/queue", response_model=RetrainQueue)
async def get_retrain_queue(session: SessionDep) -> RetrainQueue:
    """Retrains running and waiting, in the order they run (priority, then age)."""
    rows = await retrain.get_queue(session)
    running = sum(r.status == "running" for r in rows)
    return RetrainQueue(
        requests=[RetrainRequestRead.model_validate(r) for r in rows], running=running, queued=len(rows) - running
    )


@router.get("/auto-retrain/history", response_model=RetrainHistory)
async def get_retrain_history(
    session: SessionDep,
    model_name: ModelNameQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> RetrainHistory:
    """Every retrain request, newest first, with why it was skipped or how it ended."""
    rows, total = await retrain.get_history(session, model_name=model_name, limit=limit, offset=offset)
    return RetrainHistory(
        requests=[RetrainRequestRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )
