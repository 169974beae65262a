"""Unified predictions: the model cache first, the model API as its fallback (service/predictions.py)."""

from typing import Annotated

from fastapi import APIRouter, Body

from mlsec.core.openapi import error_responses
from mlsec.services.gateway.dependencies import ForwardedTrafficDep, GatewaySettingsDep, PromptsDep, SdkDep
from mlsec.services.gateway.schemas.predictions import (
    EnsemblePrediction,
    UnifiedBatchPredict,
    UnifiedBatchPrediction,
    UnifiedPredict,
    UnifiedPrediction,
)
from mlsec.services.gateway.service import predictions

router = APIRouter(tags=["gateway"])
# A prediction service's refusal of the input, relayed (400, 404, ...), or no prediction service answering (503).
PREDICTION_ERRORS = error_responses(400, 404, 503)


@router.post("/predict", response_model=UnifiedPrediction, responses=PREDICTION_ERRORS)
async def predict(
    body: Annotated[UnifiedPredict, Body()], sdk: SdkDep, traffic: ForwardedTrafficDep, prompts: PromptsDep
) -> UnifiedPrediction:
    """One text through the model cache, or the model API when the cache is down (`served_by`, `fallback`)."""
    return await predictions.predict(sdk, body, traffic_class=traffic, prompts=prompts)


@router.post(
    "/predict/batch",
    response_model=UnifiedBatchPrediction | EnsemblePrediction,
    responses=PREDICTION_ERRORS,
)
async def predict_batch(
    body: Annotated[UnifiedBatchPredict, Body()],
    sdk: SdkDep,
    settings: GatewaySettingsDep,
    traffic: ForwardedTrafficDep,
    prompts: PromptsDep,
) -> UnifiedBatchPrediction | EnsemblePrediction:
    """A batch through the cache (fallback: the model API); `ensemble` lets every served model vote."""
    return await predictions.predict_batch(
        sdk, body, max_texts=settings.max_predict_texts, traffic_class=traffic, prompts=prompts
    )
