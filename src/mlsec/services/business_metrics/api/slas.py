"""SLA routes: set, read and delete the objectives of a model (version), its compliance, and the breaches."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from mlsec.core.limits import ModelNamePath
from mlsec.core.openapi import error_responses
from mlsec.services.business_metrics.dependencies import SessionDep
from mlsec.services.business_metrics.schemas.metrics import EndQuery, ModelNameFilter, ModelVersionFilter, StartQuery
from mlsec.services.business_metrics.schemas.slas import (
    BreachList,
    BreachRead,
    ModelCompliance,
    SlaBody,
    SlaList,
    SlaRead,
)
from mlsec.services.business_metrics.service import slas
from mlsec.services.business_metrics.service.period import parse_period

router = APIRouter(prefix="/slas", tags=["slas"])
OptionalPeriodQuery = Annotated[
    str | None,
    Query(max_length=16, description="Judge over this period ending now (15m, 24h, 7d); default each SLA's window."),
]


@router.get("", response_model=SlaList)
async def get_slas(session: SessionDep, model_name: ModelNameFilter = None) -> SlaList:
    """Every SLA (or a model's), the model-wide one before the versions'."""
    rows = await slas.get_all(session, model_name=model_name)
    return SlaList(slas=[SlaRead.model_validate(row) for row in rows], total=len(rows))


@router.get("/breaches", response_model=BreachList)
async def get_breaches(
    session: SessionDep, model_name: ModelNameFilter = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> BreachList:
    """Stored breaches, newest first: one per breach start, its window extended while it lasted."""
    rows, total = await slas.get_breaches(session, model_name=model_name, limit=limit)
    return BreachList(breaches=[BreachRead.model_validate(row) for row in rows], total=total, limit=limit)


@router.put(
    "/{model_name}",
    response_model=SlaRead,
    responses={**error_responses(422), 201: {"model": SlaRead, "description": "Created (200: replaced)."}},
)
async def put_sla(model_name: ModelNamePath, body: SlaBody, session: SessionDep, response: Response) -> SlaRead:
    """Set the SLA of a model version (or, without model_version, of every version without its own): 201 when
    created, 200 when replaced."""
    sla, created = await slas.update(session, model_name=model_name, body=body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return SlaRead.model_validate(sla)


@router.delete("/{model_name}", status_code=204, responses=error_responses(404))
async def delete_sla(model_name: ModelNamePath, session: SessionDep, model_version: ModelVersionFilter = None) -> None:
    """Delete the SLA of a model version (without model_version: the model-wide one); its breaches stay."""
    await slas.delete(session, model_name=model_name, model_version=model_version)


@router.get("/{model_name}/compliance", response_model=ModelCompliance, responses=error_responses(404, 422))
async def get_sla_compliance(
    model_name: ModelNamePath,
    session: SessionDep,
    model_version: ModelVersionFilter = None,
    period: OptionalPeriodQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
) -> ModelCompliance:
    """Per version: each objective's measured value, threshold and verdict, the figures behind them and the
    breaches detected in the window. With model_version, that version even if no SLA applies to it (its
    figures, no verdict). 404 when the model has no SLA."""
    now = datetime.now(UTC)
    window = None if period is None and start is None and end is None else parse_period(period, start, end, now=now)
    return await slas.get_compliance(
        session, model_name=model_name, model_version=model_version, period=window, now=now
    )
