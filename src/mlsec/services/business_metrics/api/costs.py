"""`/costs`: what the services cost over a period and each model version's share (cost per 1,000 predictions)."""

from __future__ import annotations

from fastapi import APIRouter

from mlsec.core.openapi import error_responses
from mlsec.services.business_metrics.dependencies import BusinessDep, SessionDep
from mlsec.services.business_metrics.schemas.costs import CostsRead
from mlsec.services.business_metrics.schemas.metrics import ModelNameFilter, ModelVersionFilter, PeriodDep
from mlsec.services.business_metrics.service import costs

router = APIRouter(tags=["costs"])


@router.get("/costs", response_model=CostsRead, responses=error_responses(422))
async def get_costs(
    session: SessionDep,
    business: BusinessDep,
    period: PeriodDep,
    model_name: ModelNameFilter = None,
    model_version: ModelVersionFilter = None,
) -> CostsRead:
    """Per model version: predictions, CPU seconds, memory GiB-hours, cost and cost per 1,000 predictions; per
    service its cost; the prices and currency used."""
    prices = costs.Prices.from_settings(business.settings)
    return await costs.get(session, period, prices, model_name=model_name, model_version=model_version)
