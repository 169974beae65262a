"""Shapes of the services that sent spans, their operations, and the service map."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ServiceSummary(BaseModel):
    name: str
    operations: int = Field(description="Distinct span names of the service.")
    spans: int
    last_seen: datetime = Field(description="The start of its newest span.")


class ServiceList(BaseModel):
    services: list[ServiceSummary]


class OperationSummary(BaseModel):
    name: str
    kind: str = Field(description="The newest span's kind: internal, server, client, producer or consumer.")
    count: int
    last_seen: datetime


class OperationList(BaseModel):
    service: str
    operations: list[OperationSummary]


class MapNode(BaseModel):
    service: str
    calls_in: int = Field(description="Calls it received from other services in the window.")
    calls_out: int = Field(description="Calls it made to other services in the window.")


class MapEdge(BaseModel):
    """Calls from `source` (the parent span's service) to `target` (the child span's) in the window."""

    source: str
    target: str
    calls: int
    errors: int = Field(description="Child spans that ended in error.")
    error_rate: float
    avg_ms: float = Field(description="Mean duration of the child spans.")
    max_ms: float


class ServiceMapRead(BaseModel):
    """The service map summed over the window's minutes of `service_edge` (written at ingest, no batch job)."""

    window_minutes: int
    nodes: list[MapNode]
    edges: list[MapEdge]
