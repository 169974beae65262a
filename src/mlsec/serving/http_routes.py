"""`POST /predict` and `POST /predict/batch`, the same in both serving services."""

from typing import Annotated

from fastapi import APIRouter, Depends

from mlsec.serving.http_schemas import (
    BatchPredictRequest,
    BatchPredictResponse,
    ItemPrediction,
    PredictRequest,
    PredictResponse,
)
from mlsec.serving.model import Prediction
from mlsec.serving.state import ServingState, get_serving

ServingDep = Annotated[ServingState, Depends(get_serving)]


def _item(prediction: Prediction) -> ItemPrediction:
    return ItemPrediction(label=prediction.label, score=prediction.score, probabilities=prediction.probabilities)


def build_predict_router() -> APIRouter:
    router = APIRouter(tags=["predictions"])

    @router.post("/predict", response_model=PredictResponse)
    async def predict(request: PredictRequest, serving: ServingDep) -> PredictResponse:
        """Classify one text (or one row of features) with a model's champion or a given version."""
        item = request.text if request.text is not None else request.features
        if request.text is not None:
            serving.check_texts([request.text])
        model, prediction, latency_ms = await serving.predict_one(request.model_name, item, request.version)
        return PredictResponse(
            **_item(prediction).model_dump(),
            model_name=model.name,
            model_version=model.version,
            threshold=model.threshold,
            latency_ms=round(latency_ms, 3),
        )

    @router.post("/predict/batch", response_model=BatchPredictResponse)
    async def predict_batch(request: BatchPredictRequest, serving: ServingDep) -> BatchPredictResponse:
        """Classify many texts (or rows) in one vectorised call; the order of the answers is the order asked."""
        items = request.texts if request.texts is not None else request.records
        assert items is not None
        serving.check_batch(len(items))
        if request.texts is not None:
            serving.check_texts(request.texts)
        model, predictions, latency_ms = await serving.predict_many(request.model_name, items, request.version)
        return BatchPredictResponse(
            predictions=[_item(p) for p in predictions],
            count=len(predictions),
            model_name=model.name,
            model_version=model.version,
            threshold=model.threshold,
            latency_ms=round(latency_ms, 3),
        )

    return router
