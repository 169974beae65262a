"""Response models of the cache's event log: what it did to models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


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
