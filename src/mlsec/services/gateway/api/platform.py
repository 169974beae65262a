"""The gateway's platform-wide views: health with an overall score, the dashboard, metrics, the model and
security overviews (service/platform.py asks the services)."""

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from mlsec.core.app import ContextDep
from mlsec.services.gateway.dependencies import SdkDep
from mlsec.services.gateway.schemas.platform import (
    Dashboard,
    DashboardOverview,
    GatewayHealth,
    ModelsOverview,
    PlatformMetrics,
    SecurityOverview,
)
from mlsec.services.gateway.service import platform

router = APIRouter(tags=["gateway"])
# Every view answers with response_model_exclude_unset: what the logic leaves unset (a healthy service's
# `error`, a part whose service failed) is left out of the answer, not sent as null.


@router.get("/health", response_model=GatewayHealth, response_model_exclude_unset=True)
async def get_platform_health(sdk: SdkDep, ctx: ContextDep) -> GatewayHealth:
    """Every service's readiness and circuit state, and the share of services healthy (`overall_score`)."""
    return await platform.get_gateway_health(sdk, ctx.settings.version)


@router.get("/dashboard", response_model=Dashboard, response_model_exclude_unset=True)
async def get_dashboard(sdk: SdkDep, ctx: ContextDep) -> Dashboard:
    """The overview plus the latest live events (what the web dashboard opens with)."""
    return await platform.get_dashboard(sdk, ctx.hub)


@router.get("/dashboard/overview", response_model=DashboardOverview, response_model_exclude_unset=True)
async def get_dashboard_overview(sdk: SdkDep) -> DashboardOverview:
    """Health, served models, cache state, recent training jobs and the registry."""
    return await platform.get_dashboard_overview(sdk)


@router.get(
    "/metrics",
    response_model=None,
    responses={200: {"model": PlatformMetrics, "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def get_metrics(request: Request, sdk: SdkDep) -> Response | PlatformMetrics:
    """JSON (`Accept: application/json` or `?format=json`): every service's request, error and prediction
    counts. Otherwise the gateway's own Prometheus metrics, so that scrapers keep working."""
    wants_json = request.query_params.get("format") == "json" or "application/json" in request.headers.get("accept", "")
    if wants_json:
        return await platform.get_all_metrics(sdk)
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/models/overview", response_model=ModelsOverview, response_model_exclude_unset=True)
async def get_models_overview(sdk: SdkDep) -> ModelsOverview:
    """The registry, what the model API and the cache have loaded, cache statistics and recent jobs."""
    return await platform.get_models_overview(sdk)


@router.get("/security/overview", response_model=SecurityOverview, response_model_exclude_unset=True)
async def get_security_overview(sdk: SdkDep) -> SecurityOverview:
    """Detections per model and label, and the health of the security services."""
    return await platform.get_security_overview(sdk)
