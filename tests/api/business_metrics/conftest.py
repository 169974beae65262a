"""The business-metrics service in process on a real database (SQLite, and PostgreSQL with Redis when
available), its collector off so that each test decides what the store holds, and loaders that write raw
records through the service's own writers: a test computes its expected figures from the same records.

    async def test_x(client, load_predictions):
        await load_predictions([prediction(at, latency_ms=12.0, label="1")])
        answer = await client.get("/metrics/kpis", params={"period": "1h"})
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mlsec.core.settings import Settings
from mlsec.services.business_metrics.app import create_app
from mlsec.services.business_metrics.service.rollups import (
    PredictionSample,
    ServiceSample,
    add_event,
    add_feedback,
    add_predictions,
    add_service_sample,
)
from mlsec.services.business_metrics.settings import BusinessMetricsSettings
from mlsec.services.business_metrics.state import BusinessMetrics


def business_settings(**overrides: Any) -> BusinessMetricsSettings:
    """The service's settings for a test: no collection schedule (a test runs rounds itself), nothing else
    from the environment."""
    values: dict[str, Any] = {"collect_enabled": False, "collect_interval_s": 3600.0}
    values.update(overrides)
    return BusinessMetricsSettings.model_validate(values)


def prediction(
    at: datetime,
    *,
    model_name: str = "detector",
    model_version: str = "1",
    label: str | None = "0",
    latency_ms: float = 10.0,
    service: str = "model-api",
) -> PredictionSample:
    """One production prediction as the collector reads it from a prediction log."""
    return PredictionSample(
        at=at, service=service, model_name=model_name, model_version=model_version, label=label, latency_ms=latency_ms
    )


@dataclass(frozen=True)
class FeedbackRecord:
    """Confusion counts of labelled feedback of a model version at a time (positive: a threat)."""

    at: datetime
    model_name: str = "detector"
    model_version: str = "1"
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0


@dataclass(frozen=True)
class EventRecord:
    at: datetime
    kind: str
    model_name: str = "detector"
    count: int = 1


async def start(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def business_app(backend_settings: Settings) -> AsyncIterator[FastAPI]:
    """The started app (database migrated, collector off) on SQLite, then on PostgreSQL and Redis."""
    async for app in start(create_app(backend_settings, business_settings())):
        yield app


@pytest.fixture
async def client(business_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on `business_app`."""
    transport = httpx.ASGITransport(app=business_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def business(business_app: FastAPI) -> BusinessMetrics:
    """The running service's state (its database, settings, SDK and collector)."""
    state: BusinessMetrics = business_app.state.business
    return state


@pytest.fixture
def load_predictions(business: BusinessMetrics) -> Callable[[Iterable[PredictionSample]], Awaitable[None]]:
    """`await load_predictions([prediction(...), ...])`: counted as the collector counts them."""

    async def load(samples: Iterable[PredictionSample]) -> None:
        async with business.ctx.db.session() as session:
            await add_predictions(session, list(samples), business.settings.benign_labels)

    return load


@pytest.fixture
def load_service_samples(
    business: BusinessMetrics,
) -> Callable[[str, Iterable[tuple[datetime, ServiceSample]]], Awaitable[None]]:
    """`await load_service_samples("model-api", [(at, ServiceSample(healthy=True, interval_s=60, ...)), ...])`."""

    async def load(service: str, samples: Iterable[tuple[datetime, ServiceSample]]) -> None:
        async with business.ctx.db.session() as session:
            for at, sample in samples:
                await add_service_sample(session, service, at, sample)

    return load


@pytest.fixture
def load_feedback(business: BusinessMetrics) -> Callable[[Iterable[FeedbackRecord]], Awaitable[None]]:
    """`await load_feedback([FeedbackRecord(at, tp=3, fn=1), ...])`."""

    async def load(records: Iterable[FeedbackRecord]) -> None:
        async with business.ctx.db.session() as session:
            for r in records:
                await add_feedback(session, r.at, r.model_name, r.model_version, tp=r.tp, fp=r.fp, tn=r.tn, fn=r.fn)

    return load


@pytest.fixture
def load_events(business: BusinessMetrics) -> Callable[[Iterable[EventRecord]], Awaitable[None]]:
    """`await load_events([EventRecord(at, "retrain"), ...])`."""

    async def load(records: Iterable[EventRecord]) -> None:
        async with business.ctx.db.session() as session:
            for r in records:
                await add_event(session, r.at, r.kind, r.model_name, r.count)

    return load
