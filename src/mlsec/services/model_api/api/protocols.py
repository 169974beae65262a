"""The Open Inference Protocol (V2, KServe/MLServer) and MLflow's `/invocations`, on the same engine.

So a user switching from `mlflow models serve`, KServe or MLServer keeps their clients.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from mlsec.core.errors import ServiceUnavailableError
from mlsec.core.health import run_checks
from mlsec.core.limits import ModelNamePath, ModelVersionPath
from mlsec.core.openapi import error_responses
from mlsec.core.traffic import TrafficClassDep
from mlsec.services.model_api.dependencies import ServingDep
from mlsec.services.model_api.schemas.protocols import (
    InvocationsResponse,
    V2InferRequest,
    V2InferResponse,
    V2Live,
    V2ModelMetadata,
    V2Ready,
)
from mlsec.services.model_api.service import protocols
from mlsec.serving.errors import MODEL_ERRORS

v2 = APIRouter(prefix="/v2", tags=["open inference protocol (v2)"])
invocations = APIRouter(tags=["mlflow scoring protocol"])


@v2.get("/health/live", response_model=V2Live)
async def get_v2_live() -> V2Live:
    return V2Live(live=True)


@v2.get("/health/ready", response_model=V2Ready, responses=error_responses(503))
async def get_v2_ready(request: Request) -> V2Ready:
    """Ready when the service's critical dependencies answer (as `/health/ready`); models load on demand."""
    checks = [c for c in request.app.state.dependency_checks if c.critical]
    down = [name for name, result in (await run_checks(checks)).items() if result.status == "down"]
    if down:
        raise ServiceUnavailableError(f"not ready: {', '.join(down)} down", details={"down": down})
    return V2Ready(ready=True)


@v2.get("/models/{model_name}", response_model=V2ModelMetadata, responses=MODEL_ERRORS)
async def get_v2_model(model_name: ModelNamePath, serving: ServingDep) -> V2ModelMetadata:
    return await protocols.get_metadata(serving, model_name, None)


@v2.get("/models/{model_name}/versions/{version}", response_model=V2ModelMetadata, responses=MODEL_ERRORS)
async def get_v2_model_version(
    model_name: ModelNamePath, version: ModelVersionPath, serving: ServingDep
) -> V2ModelMetadata:
    return await protocols.get_metadata(serving, model_name, version)


@v2.get("/models/{model_name}/ready", response_model=V2Ready, responses=MODEL_ERRORS)
async def get_v2_model_ready(model_name: ModelNamePath, serving: ServingDep) -> V2Ready:
    """Ready when a version of the model is loaded (load it with /models/load or a first request)."""
    return V2Ready(name=model_name, ready=protocols.is_ready(serving, model_name, None))


@v2.get("/models/{model_name}/versions/{version}/ready", response_model=V2Ready, responses=MODEL_ERRORS)
async def get_v2_model_version_ready(
    model_name: ModelNamePath, version: ModelVersionPath, serving: ServingDep
) -> V2Ready:
    return V2Ready(name=model_name, ready=protocols.is_ready(serving, model_name, version))


@v2.post("/models/{model_name}/infer", response_model=V2InferResponse, responses=MODEL_ERRORS)
async def infer_v2(
    model_name: ModelNamePath, request: V2InferRequest, serving: ServingDep, traffic: TrafficClassDep
) -> V2InferResponse:
    """Inference on the model's champion, in the Open Inference Protocol's tensors."""
    return await protocols.infer(serving, model_name, None, request, traffic)


@v2.post("/models/{model_name}/versions/{version}/infer", response_model=V2InferResponse, responses=MODEL_ERRORS)
async def infer_v2_version(
    model_name: ModelNamePath,
    version: ModelVersionPath,
    request: V2InferRequest,
    serving: ServingDep,
    traffic: TrafficClassDep,
) -> V2InferResponse:
    return await protocols.infer(serving, model_name, version, request, traffic)


@invocations.post("/invocations", response_model=InvocationsResponse, responses=MODEL_ERRORS)
async def invocations_mlflow(
    serving: ServingDep, payload: Annotated[dict[str, Any], Body()], traffic: TrafficClassDep
) -> InvocationsResponse:
    """MLflow's scoring protocol on the default model's champion: `{"predictions": [labels]}`."""
    return InvocationsResponse(predictions=await protocols.invoke(serving, payload, traffic))
