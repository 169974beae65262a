"""Serving routes: `/performance` (per model version and per service, with tracing's RED figures),
`/throughput` and `/latency` (series per model version)."""

from __future__ import annotations

from fastapi import APIRouter

from mlsec.core.openapi import error_responses
from mlsec.services.business_metrics.dependencies import BusinessDep, SessionDep
from mlsec.services.business_metrics.schemas.metrics import (
    ModelNameFilter,
    ModelVersionFilter,
    PeriodDep,
    ResolutionQuery,
)
from mlsec.services.business_metrics.schemas.performance import LatencyRead, PerformanceRead, ThroughputRead
from mlsec.services.business_metrics.service import performance

router = APIRouter(tags=["performance"])


@router.get("/performance", response_model=PerformanceRead, responses=error_responses(422))
async def get_performance(session: SessionDep, business: BusinessDep, period: PeriodDep) -> PerformanceRead:
    """Per model version: predictions, throughput, p50/p95/p99, error rate; per service: availability, MTTR and
    the tracing service's RED figures (null, with `sources.tracing` saying why, when it does not answer)."""
    return await performance.get(session, business.sdk, period)


@router.get("/throughput", response_model=ThroughputRead, responses=error_responses(422))
async def get_throughput(
    session: SessionDep,
    period: PeriodDep,
    resolution: ResolutionQuery = None,
    model_name: ModelNameFilter = None,
    model_version: ModelVersionFilter = None,
) -> ThroughputRead:
    """Predictions per second in each bucket, in total and per model version."""
    return await performance.get_throughput(
        session, period, resolution, model_name=model_name, model_version=model_version
    )


@router.get("/latency", response_model=LatencyRead, responses=error_responses(422))
async def get_latency(
    session: SessionDep,
    period: PeriodDep,
    resolution: ResolutionQuery = None,
    model_name: ModelNameFilter = None,
    model_version: ModelVersionFilter = None,
) -> LatencyRead:
    """p50/p95/p99 latency in each bucket, per model version."""
    return await performance.get_latency(
        session, period, resolution, model_name=model_name, model_version=model_version
    )
