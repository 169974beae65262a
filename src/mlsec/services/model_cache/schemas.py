"""Request and response models of the model cache's own routes (predictions: mlsec.serving)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlsec.core.strict import JsonBool, JsonFloat
from mlsec.serving.http_schemas import NAME, VERSION, LoadedModelRead


class CacheConfigBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Values of their JSON type only (mlsec.core.strict): `false` is not 0, nor `0` false.
    memory_budget_mb: JsonFloat = Field(gt=0, le=1_000_000)
    idle_ttl_seconds: JsonFloat | None = Field(None, gt=0, le=30 * 24 * 3600)
    preload: list[str] = Field(default_factory=list, max_length=100)
    preload_champions: JsonBool = True


class CacheConfigRead(CacheConfigBody):
    updated_at: datetime | None


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
    version: str | None = Field(None, pattern=VERSION, description="A version number or an alias; default: champion.")


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


class CacheEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    kind: str
    model_name: str
    model_version: str | None
    detail: dict[str, Any]


class CacheEventList(BaseModel):
    events: list[CacheEventRead]
    count: int


ModelNamePattern = NAME
