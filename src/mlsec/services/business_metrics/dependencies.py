"""The dependencies business-metrics routes take: the running service and a database session (core's)."""

from typing import Annotated

from fastapi import Depends, Request

from mlsec.core.app import SessionDep
from mlsec.services.business_metrics.state import BusinessMetrics

__all__ = ["BusinessDep", "SessionDep"]


async def get_business(request: Request) -> BusinessMetrics:
    business: BusinessMetrics = request.app.state.business
    return business


BusinessDep = Annotated[BusinessMetrics, Depends(get_business)]
