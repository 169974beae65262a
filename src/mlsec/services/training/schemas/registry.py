"""The MLflow registry as `/models/*` answers it: models, versions, aliases and the seeds' stage names."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ModelVersionRead(BaseModel):
    version: str
    status: str
    stage: str = Field(description="Seed view of the aliases: champion=Production, challenger=Staging, else None.")
    aliases: list[str]
    run_id: str | None
    source: str | None
    created_at: datetime | None
    tags: dict[str, str]


class RegisteredModelRead(BaseModel):
    name: str
    description: str | None
    aliases: dict[str, str]
    tags: dict[str, str]
    latest_version: str | None
    champion_version: str | None
    challenger_version: str | None
    updated_at: datetime | None


class RegistryModelRead(RegisteredModelRead):
    versions: list[ModelVersionRead]


class ModelList(BaseModel):
    models: list[RegisteredModelRead]
    count: int
    refreshed_at: datetime | None


class RegistryRead(BaseModel):
    models: list[RegistryModelRead]
    count: int
    refreshed_at: datetime | None
    tracking_uri: str


class LatestModelRead(BaseModel):
    name: str
    version: str
    stage: str
    aliases: list[str]
    run_id: str | None
    created_at: datetime | None
    tags: dict[str, str]


class LatestModelList(BaseModel):
    models: list[LatestModelRead]
    count: int
