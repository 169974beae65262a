"""The service's own description (`GET /`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class EngineInfo(BaseModel):
    types: list[str]
    threshold: float
    region: str
    allow_list: int = Field(description="Values on the allow list (never their text).")
    deny_list: int


class ServiceInfo(BaseModel):
    service: str
    version: str
    description: str
    engine: EngineInfo
    purposes: list[str]
    retention_categories: list[str]
    counts: dict[str, int] = Field(description="Subjects, classifications, consents, erasures and audit entries.")
