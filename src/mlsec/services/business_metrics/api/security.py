"""Security routes: `/security` (threats, detection quality, drift alerts, the red team), `/threats` (series per
model) and `/compliance` (the data-privacy service's status and the SLAs')."""

from __future__ import annotations

from fastapi import APIRouter

from mlsec.core.openapi import error_responses
from mlsec.services.business_metrics.dependencies import BusinessDep, SessionDep
from mlsec.services.business_metrics.schemas.metrics import ModelNameFilter, PeriodDep, ResolutionQuery
from mlsec.services.business_metrics.schemas.security import ComplianceRead, SecurityRead, ThreatsRead
from mlsec.services.business_metrics.service import security

router = APIRouter(tags=["security"])


@router.get("/security", response_model=SecurityRead, responses=error_responses(422))
async def get_security(session: SessionDep, business: BusinessDep, period: PeriodDep) -> SecurityRead:
    """Threats detected and blocked, detection rate and false-positive rate on labelled feedback, drift alerts,
    and the red team's latest detection rate per model (null, with `sources.analytics` saying why, when the
    analytics service does not answer)."""
    return await security.get(session, business.sdk, period)


@router.get("/threats", response_model=ThreatsRead, responses=error_responses(422))
async def get_threats(
    session: SessionDep, period: PeriodDep, resolution: ResolutionQuery = None, model_name: ModelNameFilter = None
) -> ThreatsRead:
    """Predictions, threats and threat rate in each bucket, per model."""
    return await security.get_threats(session, period, resolution, model_name=model_name)


@router.get("/compliance", response_model=ComplianceRead, responses=error_responses(422))
async def get_compliance(session: SessionDep, business: BusinessDep, period: PeriodDep) -> ComplianceRead:
    """The data-privacy service's compliance status, read live (null, with `sources` saying why, when it does
    not answer), and the SLA compliance of every model version an SLA applies to, over the period."""
    return await security.get_compliance(session, business.sdk, period)
