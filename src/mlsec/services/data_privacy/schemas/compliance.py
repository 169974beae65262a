"""Compliance status and violations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class CheckRead(BaseModel):
    name: str
    status: str
    detail: str


class ViolationRead(BaseModel):
    check: str
    severity: str
    message: str
    remedy: str
    details: dict[str, Any]


class ComplianceStatus(BaseModel):
    status: str
    checked_at: datetime
    checks: list[CheckRead]
    violations: int


class ViolationList(BaseModel):
    checked_at: datetime
    violations: list[ViolationRead]
    count: int
