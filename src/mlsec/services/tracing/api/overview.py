"""`GET /` (what the store holds, where spans go in, how long they stay) and `GET /dashboard` (the Traces page
in one call)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from mlsec.services.tracing.dependencies import SessionDep, TracingDep
from mlsec.services.tracing.schemas.metrics import WindowMinutes
from mlsec.services.tracing.schemas.overview import DashboardRead, InfoRead
from mlsec.services.tracing.service import overview

router = APIRouter(tags=["tracing"])


@router.get("/", response_model=InfoRead)
async def get_info(request: Request, tracing: TracingDep, session: SessionDep) -> InfoRead:
    """Spans and traces stored, the oldest and newest span, the OTLP endpoint and the retention settings."""
    return await overview.get_info(
        session, service=tracing.ctx.spec.name, version=request.app.version, settings=tracing.settings
    )


@router.get("/dashboard", response_model=DashboardRead)
async def get_dashboard(session: SessionDep, window_minutes: WindowMinutes = 60) -> DashboardRead:
    """The window's traces, spans and error rate, RED per service, the 10 longest traces, the newest error spans
    and the service map's edges."""
    return await overview.get_dashboard(session, window_minutes=window_minutes)
