"""Retention policies, status and clean-up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlsec.services.data_privacy.schemas.types import Category


class PolicyRead(BaseModel):
    category: str
    max_age_days: int | None = Field(description="None: kept forever.")
    source: str = Field(description="default (from settings) or set (through the API).")
    updated_at: datetime | None
    updated_by: str | None


class PolicyList(BaseModel):
    policies: list[PolicyRead]


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_age_days: int | None = Field(ge=1, le=36_500, strict=True)


class CategoryOutcome(BaseModel):
    category: str
    max_age_days: int | None
    cutoff: datetime | None
    matched: int = Field(description="Items past the period.")
    deleted: int
    complete: bool = Field(description="Every store of the category answered.")
    stores: list[dict[str, Any]]


class RetentionStatus(BaseModel):
    checked_at: datetime
    categories: list[CategoryOutcome]
    overdue: int


class CleanupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = Field(True, strict=True, description="Count only (the default); false deletes.")
    categories: list[Category] | None = Field(None, min_length=1, max_length=8)


class CleanupResult(RetentionStatus):
    dry_run: bool
    deleted: int
