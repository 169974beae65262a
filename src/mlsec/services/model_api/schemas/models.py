"""Request and response models of the model API's model-management routes (predictions: mlsec.serving)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from mlsec.core.limits import ModelName, ModelVersion
from mlsec.serving.http_schemas import LoadedModelRead


class LoadRequest(BaseModel):
    model_name: ModelName
    version: ModelVersion | None = Field(None, description="A version number or an alias; default: champion.")


class BatchLoadRequest(BaseModel):
    models: list[LoadRequest] = Field(min_length=1, max_length=100)


class LoadResult(BaseModel):
    model_name: str
    version: str | None
    status: Literal["loaded", "failed"]
    error: str | None = None
    model: LoadedModelRead | None = None


class BatchLoadResponse(BaseModel):
    results: list[LoadResult]
    loaded: int
    failed: int


class UnloadResponse(BaseModel):
    model_name: str
    unloaded_versions: list[str]


class ModelList(BaseModel):
    models: list[LoadedModelRead]
    count: int
    default_model: str


class ModelDetail(BaseModel):
    name: str
    default_alias: str
    default_version: str
    loaded: bool
    loaded_versions: list[LoadedModelRead]


class WarmCacheResponse(BaseModel):
    model_name: str
    model_version: str
    load_ms: float
    warm_predict_ms: float
