"""`GET /` and seed 000's second health path `/health/health` (the same answer as `/health`)."""

import time
from datetime import UTC, datetime

from fastapi import APIRouter, Request

from mlsec.core.health import HealthRead
from mlsec.services.data_privacy.dependencies import PrivacyDep, SessionDep
from mlsec.services.data_privacy.schemas.system import EngineInfo, ServiceInfo
from mlsec.services.data_privacy.service import system
from mlsec.services.data_privacy.settings import CATEGORIES

router = APIRouter(tags=["data privacy"])
_STARTED = time.monotonic()


@router.get("/", response_model=ServiceInfo)
async def get_info(request: Request, privacy: PrivacyDep, session: SessionDep) -> ServiceInfo:
    """What the service looks for and keeps: the engine's types and settings, the purposes and categories, counts."""
    engine = privacy.engine
    return ServiceInfo(
        service=privacy.ctx.spec.name,
        version=request.app.version,
        description=privacy.ctx.spec.description,
        engine=EngineInfo(
            types=sorted(engine.types),
            threshold=engine.threshold,
            region=engine.region,
            allow_list=len(engine.allow),
            deny_list=len(engine.deny),
        ),
        purposes=privacy.settings.purposes,
        retention_categories=list(CATEGORIES),
        counts=await system.get_counts(session),
    )


@router.get("/health/health", response_model=HealthRead)
async def get_health_health(request: Request) -> HealthRead:
    """The process answers (as `/health`)."""
    ctx = request.app.state.ctx
    return HealthRead(
        status="healthy",
        service=ctx.spec.name,
        version=ctx.settings.version,
        timestamp=datetime.now(UTC),
        uptime_seconds=round(time.monotonic() - _STARTED, 3),
    )
