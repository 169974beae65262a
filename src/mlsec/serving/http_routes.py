"""`POST /predict`, `POST /predict/batch` and `GET /predictions/log`, the same in both serving services."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from mlsec.core.limits import NAME_PATTERN, BigRowId, UtcDatetime
from mlsec.core.traffic import TrafficClass, TrafficClassDep
from mlsec.serving.errors import MODEL_ERRORS
from mlsec.serving.http_schemas import (
    BatchPredictRequest,
    BatchPredictResponse,
    ItemPrediction,
    PredictionLogPage,
    PredictionRecord,
    PredictRequest,
    PredictResponse,
)
from mlsec.serving.model import Prediction
from mlsec.serving.prediction_log import read_records
from mlsec.serving.state import ServingState, get_serving

ServingDep = Annotated[ServingState, Depends(get_serving)]


def _item(prediction: Prediction) -> ItemPrediction:
    return ItemPrediction(label=prediction.label, score=prediction.score, probabilities=prediction.probabilities)


def build_predict_router() -> APIRouter:
    router = APIRouter(tags=["predictions"])

    @router.post("/predict", response_model=PredictResponse, responses=MODEL_ERRORS)
    async def predict(request: PredictRequest, serving: ServingDep, traffic: TrafficClassDep) -> PredictResponse:
        """Classify one text (or one row of features) with a model's champion or a given version."""
        item = request.text if request.text is not None else request.features
        if request.text is not None:
            serving.check_texts([request.text])
        model, prediction, latency_ms = await serving.predict_one(request.model_name, item, request.version, traffic)
        return PredictResponse(
            **_item(prediction).model_dump(),
            model_name=model.name,
            model_version=model.version,
            threshold=model.threshold,
            latency_ms=round(latency_ms, 3),
        )

    @router.post("/predict/batch", response_model=BatchPredictResponse, responses=MODEL_ERRORS)
    async def predict_batch(
        request: BatchPredictRequest, serving: ServingDep, traffic: TrafficClassDep
    ) -> BatchPredictResponse:
        """Classify many texts (or rows) in one vectorised call; the order of the answers is the order asked."""
        items = request.texts if request.texts is not None else request.records
        assert items is not None
        serving.check_batch(len(items))
        if request.texts is not None:
            serving.check_texts(request.texts)
        model, predictions, latency_ms = await serving.predict_many(request.model_name, items, request.version, traffic)
        return BatchPredictResponse(
            predictions=[_item(p) for p in predictions],
            count=len(predictions),
            model_name=model.name,
            model_version=model.version,
            threshold=model.threshold,
            latency_ms=round(latency_ms, 3),
        )

    @router.get("/predictions/log", response_model=PredictionLogPage)
    async def read_prediction_log(
        serving: ServingDep,
        model_name: Annotated[str, Query(min_length=1, max_length=100, pattern=NAME_PATTERN)],
        since: UtcDatetime | None = None,
        until: UtcDatetime | None = None,
        after_id: BigRowId = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        newest_first: bool = False,
        include_text: bool = False,
        traffic_class: TrafficClass | None = None,
    ) -> PredictionLogPage:
        """The logged predictions of a model (drift monitoring's input), paged by id; of one traffic class
        (live drift reads `production`), or of every class when none is given. Times without an offset are UTC."""
        rows = await read_records(
            serving.log.db,
            serving.log.table,
            model_name=model_name,
            since=since,
            until=until,
            after_id=after_id,
            limit=limit,
            newest_first=newest_first,
            include_text=include_text,
            traffic_class=traffic_class,
        )
        records = [PredictionRecord.model_validate(row) for row in rows]
        last = len(records) == limit and not newest_first
        return PredictionLogPage(records=records, count=len(records), next_after_id=records[-1].id if last else None)

    return router
