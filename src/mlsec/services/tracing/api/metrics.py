"""RED metric routes: `/metrics/performance`, `/metrics/errors`, `/metrics/traces` (`/metrics` alone is every
service's Prometheus endpoint)."""

from __future__ import annotations

from fastapi import APIRouter

from mlsec.services.tracing.dependencies import SessionDep
from mlsec.services.tracing.schemas.metrics import (
    ErrorsRead,
    OperationQuery,
    PerformanceRead,
    ServiceQuery,
    TracesMetricsRead,
    WindowMinutes,
)
from mlsec.services.tracing.service import metrics

router = APIRouter(tags=["trace metrics"])


@router.get("/metrics/performance", response_model=PerformanceRead)
async def get_performance(
    session: SessionDep,
    window_minutes: WindowMinutes = 60,
    service: ServiceQuery = None,
    operation: OperationQuery = None,
) -> PerformanceRead:
    """Requests (SERVER spans and roots) per service and operation: rate, errors, p50/p95/p99 in ms."""
    return await metrics.get_performance(session, window_minutes=window_minutes, service=service, operation=operation)


@router.get("/metrics/errors", response_model=ErrorsRead)
async def get_errors(
    session: SessionDep, window_minutes: WindowMinutes = 60, service: ServiceQuery = None
) -> ErrorsRead:
    """Spans and error spans in the window, by operation (most errors first), and the newest 20 error spans."""
    return await metrics.get_errors(session, window_minutes=window_minutes, service=service)


@router.get("/metrics/traces", response_model=TracesMetricsRead)
async def get_trace_metrics(session: SessionDep, window_minutes: WindowMinutes = 60) -> TracesMetricsRead:
    """Traces started in the window: counts, error traces, rate, trace-duration percentiles, per minute."""
    return await metrics.get_traces(session, window_minutes=window_minutes)
