"""Service routes: the services that sent spans, one service's operations, and the service map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from mlsec.core.limits import NO_NUL_PATTERN
from mlsec.core.openapi import error_responses
from mlsec.services.tracing.dependencies import SessionDep
from mlsec.services.tracing.schemas.metrics import WindowMinutes
from mlsec.services.tracing.schemas.services import OperationList, ServiceList, ServiceMapRead
from mlsec.services.tracing.service import services

router = APIRouter(tags=["services"])

ServiceNamePath = Annotated[
    str, Path(min_length=1, max_length=128, pattern=NO_NUL_PATTERN, description="A service.name of the spans.")
]


@router.get("/services", response_model=ServiceList)
async def get_services(session: SessionDep) -> ServiceList:
    """Every service with stored spans: how many operations and spans, and when it was last seen."""
    return await services.get_all(session)


@router.get("/services/{name}/operations", response_model=OperationList, responses=error_responses(404))
async def get_service_operations(name: ServiceNamePath, session: SessionDep) -> OperationList:
    """A service's operations with their kind, span count and last time seen; 404 when it sent no span."""
    return await services.get_operations_or_raise(session, name)


@router.get("/service-map", response_model=ServiceMapRead)
async def get_service_map(session: SessionDep, window_minutes: WindowMinutes = 60) -> ServiceMapRead:
    """Services and the calls between them (from parent/child spans across services) over the window, with
    calls, errors, error rate and mean and longest duration per edge."""
    return await services.get_map(session, window_minutes=window_minutes)
