"""The audit log and its verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    seq: int
    created_at: datetime
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditRead]
    total: int
    limit: int
    offset: int


class VerifyRead(BaseModel):
    valid: bool
    entries: int = Field(description="Entries walked.")
    first_seq: int | None
    head_seq: int
    broken_seq: int | None = Field(description="The first entry that breaks the chain.")
    broken_id: int | None = Field(description="Its row id in the audit_entry table.")
    reason: str | None
