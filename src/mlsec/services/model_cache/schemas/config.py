"""Request and response models of the cache's configuration (its policy, kept across restarts)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from mlsec.core.strict import JsonBool, JsonFloat


class CacheConfigBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Values of their JSON type only (mlsec.core.strict): `false` is not 0, nor `0` false.
    memory_budget_mb: JsonFloat = Field(gt=0, le=1_000_000)
    idle_ttl_seconds: JsonFloat | None = Field(None, gt=0, le=30 * 24 * 3600)
    preload: list[str] = Field(default_factory=list, max_length=100)
    preload_champions: JsonBool = True


class CacheConfigRead(CacheConfigBody):
    updated_at: datetime | None
