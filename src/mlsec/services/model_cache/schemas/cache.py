"""Request and response models of the cache's contents: what it holds, loads, unloads and counts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mlsec.core.limits import ModelVersion
from mlsec.serving.http_schemas import LoadedModelRead


class CacheInfo(BaseModel):
    service: str
    version: str
    models_loaded: int
    memory_used_bytes: int
    memory_budget_bytes: int | None
    hit_rate: float | None


class CachedModels(BaseModel):
    models: list[LoadedModelRead]
    count: int


class LoadVersion(BaseModel):
    version: ModelVersion | None = Field(None, description="A version number or an alias; default: champion.")


class UnloadResponse(BaseModel):
    model_name: str
    unloaded_versions: list[str]


class ClearResponse(BaseModel):
    unloaded: list[dict[str, str]]
    count: int


class CacheStats(BaseModel):
    hits: int
    misses: int
    hit_rate: float | None
    evictions: int
    loads: int
    load_failures: int
    swaps: int
    memory_used_bytes: int
    memory_budget_bytes: int | None
    models: dict[str, dict[str, Any]]
