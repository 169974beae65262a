"""Shapes of the service's description (`GET /`) and of the dashboard's one-call summary (`GET /dashboard`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from mlsec.services.tracing.schemas.metrics import RecentError, Red
from mlsec.services.tracing.schemas.services import MapEdge
from mlsec.services.tracing.schemas.traces import TraceSummary


class RetentionRead(BaseModel):
    hours: int = Field(description="Traces that started longer ago are deleted.")
    max_spans: int = Field(description="Above this many spans the oldest traces are deleted.")


class InfoRead(BaseModel):
    """What the store holds and where spans go in."""

    service: str
    version: str
    spans: int
    traces: int
    oldest: datetime | None = Field(description="The start of the oldest stored span; null when none.")
    newest: datetime | None
    otlp_endpoint: str = Field(description="Where OTLP/HTTP exporters send spans (protobuf or JSON).")
    retention: RetentionRead


class DashboardRead(BaseModel):
    """The Traces page in one call: traces and spans of the window, the share of traces with an error, each
    service's RED row, the 10 longest traces, the newest error spans and the service map's edges."""

    window_minutes: int
    traces: int
    spans: int
    error_rate: float = Field(description="Traces with an error span / traces, in the window.")
    services: list[Red]
    slowest: list[TraceSummary]
    recent_errors: list[RecentError]
    edges: list[MapEdge]
