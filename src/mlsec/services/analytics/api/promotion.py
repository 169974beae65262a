"""Promotion routes: evaluate (and promote) a challenger; the ledger; the champion at a point in time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from mlsec.core.limits import ModelNamePath, Offset, UtcDatetime
from mlsec.core.openapi import error_responses
from mlsec.core.telemetry import annotate_span
from mlsec.services.analytics.dependencies import AnalyticsDep, CallerDep, SessionDep
from mlsec.services.analytics.schemas.promotion import (
    ChampionAt,
    PromotionEvaluate,
    PromotionLedger,
    PromotionRecordRead,
)
from mlsec.services.analytics.service import promotion

router = APIRouter(tags=["promotion"])


@router.post(
    "/promotion/evaluate/{model_name}", response_model=PromotionRecordRead, responses=error_responses(409, 502, 503)
)
async def evaluate_promotion(
    model_name: ModelNamePath, body: PromotionEvaluate, session: SessionDep, analytics: AnalyticsDep, caller: CallerDep
) -> PromotionRecordRead:
    """Challenger against champion on the held-out labelled feedback and the red-team suite; the champion
    alias moves only when every criterion holds. The decision and its evidence go to the ledger, with who
    asked (the caller the gateway names, else "api")."""
    record = await promotion.evaluate(
        analytics,
        session,
        model_name=model_name,
        challenger_version=body.challenger_version,
        promote=body.promote,
        actor=caller,
    )
    annotate_span({"mlsec.promotion.id": record.id, "mlsec.model.name": record.model_name})
    return PromotionRecordRead.model_validate(record)


@router.get("/promotion/ledger/{model_name}", response_model=PromotionLedger)
async def get_promotion_ledger(
    model_name: ModelNamePath,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> PromotionLedger:
    """Every champion decision of a model, newest first (append-only)."""
    rows, total = await promotion.get_ledger(session, model_name=model_name, limit=limit, offset=offset)
    return PromotionLedger(
        model_name=model_name,
        records=[PromotionRecordRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/promotion/champion/{model_name}", response_model=ChampionAt)
async def get_champion_at(model_name: ModelNamePath, session: SessionDep, at: UtcDatetime | None = None) -> ChampionAt:
    """Which version was champion at `at` (default: now; naive: UTC), since when, who moved it and on what evidence."""
    moment = at or datetime.now(UTC)
    record = await promotion.get_champion_at(session, model_name=model_name, at=moment)
    return ChampionAt(
        model_name=model_name,
        at=moment,
        version=record.champion_after,
        since=record.created_at,
        record=PromotionRecordRead.model_validate(record),
    )
