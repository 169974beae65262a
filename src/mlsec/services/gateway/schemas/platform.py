"""Response models of the gateway's platform-wide views: health, the dashboard, metrics, the model and security
overviews.

The views answer with `response_model_exclude_unset`: a key the logic does not set is left out of the answer,
not sent as null (a healthy service's `error`, the `checks` of a service that did not answer, a part whose
service failed and is named under `unavailable` instead). The other services' answers inside a view are relayed
as they are (`dict[str, Any]`): their own OpenAPI documents describe them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

from mlsec.core.events import Event

Timestamp = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""When the answer was put together: ISO 8601 in UTC, with its offset (`+00:00`)."""
Passthrough = dict[str, Any]
"""A service's own answer, relayed as it is."""


class Unavailable(BaseModel):
    """A part of a view that could not be had, and why."""

    part: str
    error: str


class ServiceHealth(BaseModel):
    """One service's readiness, as the gateway sees it now (past its circuit breaker, without retries)."""

    service: str
    url: str
    status: Literal["healthy", "degraded", "unreachable"] = Field(
        description="healthy: ready; degraded: up with a dependency down; unreachable: no answer."
    )
    error: str | None = Field(None, description="Why it is not healthy; absent when it is.")
    checks: dict[str, Any] | None = Field(
        None, description="Its readiness checks; absent when it did not answer, and for MLflow."
    )
    latency_ms: float
    circuit: str = Field(description="The circuit breaker of its host: closed, open or half-open.")


class PlatformHealth(BaseModel):
    """Every service's readiness, with the share of them fully healthy."""

    status: Literal["healthy", "degraded", "unhealthy"] = Field(
        description="healthy: all; degraded: some answer; unhealthy: none does."
    )
    overall_score: float = Field(description="Share of services healthy, 0-100.")
    healthy: int
    total: int
    services: dict[str, ServiceHealth]
    timestamp: Timestamp


class GatewayRead(BaseModel):
    """The gateway itself: it answers."""

    service: str
    status: Literal["healthy"]
    version: str


class GatewayHealth(PlatformHealth):
    """`GET /health`: every service's readiness plus the gateway's own part."""

    gateway: GatewayRead


class DashboardOverview(BaseModel):
    """Health, served models, cache state, recent training jobs and the registry, from one concurrent round."""

    health: PlatformHealth
    models: Passthrough | None = Field(None, description="The model API's `GET /models`.")
    cache: Passthrough | None = Field(None, description="The model cache's `GET /stats`.")
    training_jobs: Passthrough | None = Field(None, description="Training's 10 latest jobs (`GET /training/jobs`).")
    registry: Passthrough | None = Field(None, description="Training's `GET /models/model-registry`.")
    unavailable: list[Unavailable]
    timestamp: Timestamp


class Dashboard(DashboardOverview):
    """`GET /dashboard`: the overview and the latest 50 live events."""

    events: list[Event]


class ServiceMetrics(BaseModel):
    """One service's figures, from its Prometheus `/metrics`."""

    requests: float = Field(description="HTTP requests served.")
    server_errors: float = Field(description="Of them, answered 5xx.")
    predictions: dict[str, dict[str, int]] = Field(description="Production predictions per model and label.")


class PlatformMetrics(BaseModel):
    """`GET /metrics` as JSON: every mlsec service's request, error and prediction counts."""

    services: dict[str, ServiceMetrics]
    unavailable: list[Unavailable]
    timestamp: Timestamp


class ModelsOverview(BaseModel):
    """The registry, what the model API and the cache have loaded, cache statistics and recent jobs."""

    registry: Passthrough | None = Field(None, description="Training's `GET /models/model-registry`.")
    model_api: Passthrough | None = Field(None, description="The model API's `GET /models`.")
    model_cache: Passthrough | None = Field(None, description="The model cache's `GET /models`.")
    cache_stats: Passthrough | None = Field(None, description="The model cache's `GET /stats`.")
    training_jobs: Passthrough | None = Field(None, description="Training's 20 latest jobs (`GET /training/jobs`).")
    unavailable: list[Unavailable]
    timestamp: Timestamp


class Detections(BaseModel):
    """One model's production predictions, by label, and the share flagged (label `1`)."""

    predictions: int
    by_label: dict[str, int]
    flagged: int
    flagged_rate: float


class SecurityOverview(BaseModel):
    """Detections per model (from the serving services' counters) and the health of the security services."""

    detections: dict[str, Detections]
    services: dict[str, ServiceHealth] = Field(description="Analytics, data privacy and tracing.")
    unavailable: list[Unavailable]
    timestamp: Timestamp
