"""Request and response models of the prediction routes both serving services expose."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from mlsec.core.limits import ModelName, ModelVersion
from mlsec.serving.reports import LoadedInfo

Label = str | int | float


class ModelSelector(BaseModel):
    model_name: ModelName | None = Field(None, description="Registered model; default: the service's.")
    version: ModelVersion | None = Field(None, description="A version number or an alias; default: champion.")


class PredictRequest(ModelSelector):
    """One text (text models) or one row of features (tabular models)."""

    text: str | None = Field(None, description="The text to classify.")
    features: dict[str, Any] | None = Field(None, description="One row, for tabular models.")

    @model_validator(mode="after")
    def _one_input(self) -> PredictRequest:
        if (self.text is None) == (self.features is None):
            raise ValueError("give exactly one of 'text' or 'features'")
        return self


class BatchPredictRequest(ModelSelector):
    texts: list[str] | None = Field(None, description="Texts to classify, in one call.")
    records: list[dict[str, Any]] | None = Field(None, description="Rows of features, for tabular models.")

    @model_validator(mode="after")
    def _one_input(self) -> BatchPredictRequest:
        if (self.texts is None) == (self.records is None):
            raise ValueError("give exactly one of 'texts' or 'records'")
        if not (self.texts or self.records):
            raise ValueError("the batch is empty")
        return self


class ItemPrediction(BaseModel):
    label: Label
    score: float | None = Field(description="P(positive class) for binary models, the top probability otherwise.")
    probabilities: dict[str, float] | None


class PredictResponse(ItemPrediction):
    model_name: str
    model_version: str
    threshold: float | None
    latency_ms: float


class BatchPredictResponse(BaseModel):
    predictions: list[ItemPrediction]
    count: int
    model_name: str
    model_version: str
    threshold: float | None
    latency_ms: float


class LoadedModelRead(BaseModel):
    name: str
    version: str
    aliases: list[str]
    task: str
    threshold: float | None
    classes: list[str]
    run_id: str | None
    size_bytes: int
    load_seconds: float
    loaded_at: datetime
    last_used_at: datetime | None
    requests: int
    inference: str = Field(
        description='"compiled": the vectorised path, checked equal to the pipeline at load; "pipeline": the model'
    )


def loaded_read(info: LoadedInfo) -> LoadedModelRead:
    """The API view of a repository's `LoadedInfo`."""
    return LoadedModelRead(
        name=info.name,
        version=info.version,
        aliases=list(info.aliases),
        task=info.task,
        threshold=info.threshold,
        classes=list(info.classes),
        run_id=info.run_id,
        size_bytes=info.size_bytes,
        load_seconds=info.load_seconds,
        loaded_at=info.loaded_at,
        last_used_at=info.last_used_at,
        requests=info.requests,
        inference=info.inference,
    )


class PredictionRecord(BaseModel):
    """One logged prediction: what drift monitoring reads (features of the input, never the input itself)."""

    id: int
    created_at: datetime
    model_name: str
    model_version: str
    label: str | None
    score: float | None
    latency_ms: float
    features: dict[str, Any]
    source: str
    traffic_class: str = Field(description="production, redteam, evaluation or synthetic (mlsec.core.traffic).")
    trace_id: str | None = Field(
        None, description="The request's trace (32 hex digits; the tracing service's /traces/{trace_id}), if traced."
    )
    text: str | None = Field(None, description="Only with include_text=true, and only when texts are stored.")


class PredictionLogPage(BaseModel):
    records: list[PredictionRecord]
    count: int
    next_after_id: int | None = Field(description="Pass as after_id for the next page; null on the last page.")
