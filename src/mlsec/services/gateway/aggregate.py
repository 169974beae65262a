"""The gateway's own views over every service: health with an overall score, the dashboard, metrics, model
and security overviews, and unified predictions (model cache first, model API as fallback).

Each route asks the services through the SDK (`MainAPIClient`), concurrently; a service that fails is named in
the answer's `unavailable` list instead of failing the whole view.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field

from mlsec.client import MainAPIClient, ServiceCallError
from mlsec.core.app import ContextDep
from mlsec.core.errors import MlsecError, ServiceUnavailableError
from mlsec.core.openapi import error_responses
from mlsec.services.gateway.settings import GatewaySettings
from mlsec.services.gateway.traffic import ForwardedTrafficDep

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


async def get_sdk(request: Request) -> MainAPIClient:
    sdk: MainAPIClient = request.app.state.sdk
    return sdk


async def get_gateway_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.gateway_settings
    return settings


SdkDep = Annotated[MainAPIClient, Depends(get_sdk)]
GatewaySettingsDep = Annotated[GatewaySettings, Depends(get_gateway_settings)]


class UnifiedPredict(BaseModel):
    """One text; its length limit is the serving service's (`MAX_TEXT_CHARS`), applied there and relayed, so a
    text gets the same answer through the gateway as directly, however the services are configured."""

    text: str = Field(min_length=1)
    model_name: str | None = Field(None, pattern=NAME_PATTERN)
    version: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    use_cache: bool = True


class UnifiedBatchPredict(BaseModel):
    texts: list[str] = Field(min_length=1, description="Each within the serving service's MAX_TEXT_CHARS.")
    model_name: str | None = Field(None, pattern=NAME_PATTERN)
    ensemble: bool = False
    model_names: list[Annotated[str, Field(pattern=NAME_PATTERN)]] | None = Field(None, min_length=1, max_length=16)
    use_cache: bool = True


router = APIRouter(tags=["gateway"])
# A prediction service's refusal of the input, relayed (400, 404, ...), or no prediction service answering (503).
PREDICTION_ERRORS = error_responses(400, 404, 503)


@router.get("/health")
async def get_platform_health(sdk: SdkDep, ctx: ContextDep) -> dict[str, Any]:
    """Every service's readiness and circuit state, and the share of services healthy (`overall_score`)."""
    health = await sdk.get_all_services_health()
    health["gateway"] = {"service": "gateway", "status": "healthy", "version": ctx.settings.version}
    return health


@router.get("/dashboard")
async def get_dashboard(sdk: SdkDep, ctx: ContextDep) -> dict[str, Any]:
    """The overview plus the latest live events (what the web dashboard opens with)."""
    overview = await sdk.get_dashboard_overview()
    hub = ctx.hub
    events = [event.model_dump(mode="json") for event in hub.recent(limit=50)] if hub is not None else []
    return {**overview, "events": events}


@router.get("/dashboard/overview")
async def get_dashboard_overview(sdk: SdkDep) -> dict[str, Any]:
    """Health, served models, cache state, recent training jobs and the registry."""
    return await sdk.get_dashboard_overview()


@router.get(
    "/metrics",
    response_model=None,
    responses={200: {"content": {"application/json": {}, CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def get_metrics(request: Request, sdk: SdkDep) -> Response | dict[str, Any]:
    """JSON (`Accept: application/json` or `?format=json`): every service's request, error and prediction
    counts. Otherwise the gateway's own Prometheus metrics, so that scrapers keep working."""
    wants_json = request.query_params.get("format") == "json" or "application/json" in request.headers.get("accept", "")
    if wants_json:
        return await sdk.get_all_metrics()
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/models/overview")
async def get_models_overview(sdk: SdkDep) -> dict[str, Any]:
    """The registry, what the model API and the cache have loaded, cache statistics and recent jobs."""
    return await sdk.get_model_management_overview()


@router.get("/security/overview")
async def get_security_overview(sdk: SdkDep) -> dict[str, Any]:
    """Detections per model and label, and the health of the security services."""
    return await sdk.get_security_overview()


@router.post("/predict", responses=PREDICTION_ERRORS)
async def predict(body: Annotated[UnifiedPredict, Body()], sdk: SdkDep, traffic: ForwardedTrafficDep) -> dict[str, Any]:
    """One text through the model cache, or the model API when the cache is down (`served_by`, `fallback`)."""
    try:
        return await sdk.predict_unified(
            body.text, body.model_name, body.use_cache, version=body.version, traffic_class=traffic
        )
    except ServiceCallError as exc:
        raise _prediction_error(exc) from exc


@router.post("/predict/batch", responses=PREDICTION_ERRORS)
async def predict_batch(
    body: Annotated[UnifiedBatchPredict, Body()],
    sdk: SdkDep,
    settings: GatewaySettingsDep,
    traffic: ForwardedTrafficDep,
) -> dict[str, Any]:
    """A batch through the cache (fallback: the model API); `ensemble` lets every served model vote."""
    if len(body.texts) > settings.max_predict_texts:
        raise MlsecError(
            f"the batch has {len(body.texts)} texts; the limit is {settings.max_predict_texts} "
            "(MLSEC_GATEWAY_MAX_PREDICT_TEXTS)",
            status_code=413,
            details={"limit": settings.max_predict_texts},
        )
    try:
        return await sdk.predict_batch_unified(
            body.texts,
            body.ensemble,
            model_name=body.model_name,
            model_names=body.model_names,
            use_cache=body.use_cache,
            traffic_class=traffic,
        )
    except ServiceCallError as exc:
        raise _prediction_error(exc) from exc


def _prediction_error(exc: ServiceCallError) -> MlsecError:
    """The service's own error status for bad input (4xx); 503 when no prediction service answered."""
    if exc.status_code is not None and exc.status_code < 500:
        message = str(exc.body.get("message") or exc)
        details = exc.body.get("details")
        relayed = details if isinstance(details, dict) else {}
        return MlsecError(message, status_code=exc.status_code, details={**relayed, "service": exc.service})
    return ServiceUnavailableError(
        f"no prediction service answered: {exc}", details={"service": exc.service, "error_type": exc.error_type}
    )
