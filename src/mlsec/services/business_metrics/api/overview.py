"""`GET /`: the collector's status, what the store holds, retention and prices."""

from __future__ import annotations

from fastapi import APIRouter, Request

from mlsec.services.business_metrics.dependencies import BusinessDep, SessionDep
from mlsec.services.business_metrics.schemas.overview import OverviewRead
from mlsec.services.business_metrics.service import overview

router = APIRouter(tags=["business-metrics"])


@router.get("/", response_model=OverviewRead)
async def get_overview(request: Request, business: BusinessDep, session: SessionDep) -> OverviewRead:
    """Each source's last success and failure (with the error type), the last round, rows per resolution,
    retention and prices."""
    return await overview.get(session, business, version=request.app.version)
