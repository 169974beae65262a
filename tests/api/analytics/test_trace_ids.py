"""Analytics in traces: a drift check's request span carries the check's id and model, and an alert raised in a
traced check keeps that trace's id and answers it; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mlsec.core.settings import Settings
from mlsec.core.telemetry import background_span
from mlsec.services.analytics.app import create_app
from mlsec.services.analytics.service import drift
from tests.api.analytics.conftest import analytics_settings
from tests.conftest import started_client

pytestmark = pytest.mark.anyio


@pytest.fixture
async def traced(db_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, InMemorySpanExporter]]:
    app = create_app(db_settings, analytics_settings())
    exporter = InMemorySpanExporter()
    app.state.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    async for client in started_client(app):
        yield client, exporter


async def test_a_drift_check_span_carries_its_id_and_model(
    traced: tuple[httpx.AsyncClient, InMemorySpanExporter],
) -> None:
    client, exporter = traced
    sample = {"length": [float(i % 17) for i in range(60)]}
    answer = await client.post("/drift/detect", json={"reference": sample, "current": sample, "model_name": "m1"})
    assert answer.status_code == 200, answer.text
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "POST /drift/detect"]
    assert (span.attributes or {})["mlsec.check.id"] == answer.json()["id"]
    assert (span.attributes or {})["mlsec.model.name"] == "m1"


async def test_an_alert_raised_in_a_traced_check_keeps_its_trace_id(
    traced: tuple[httpx.AsyncClient, InMemorySpanExporter],
) -> None:
    client, _ = traced
    analytics = client._transport.app.state.analytics  # type: ignore[attr-defined]
    with background_span("analytics.drift.check") as span:  # as the schedule runs a check
        async with analytics.ctx.db.session() as session:
            await drift.raise_alert(
                session,
                analytics,
                model_name="m1",
                model_version="1",
                kind="data_drift",
                severity="high",
                message="data drift on m1",
                features=["length"],
                email_body="data drift on m1",
            )
    async with analytics.ctx.db.session() as session:  # and one outside any trace
        await drift.raise_alert(
            session,
            analytics,
            model_name="m1",
            model_version="1",
            kind="model_drift",
            severity="low",
            message="model drift on m1",
            features=[],
            email_body="model drift on m1",
        )
    alerts = (await client.get("/drift/alerts")).json()["alerts"]
    by_kind = {alert["kind"]: alert["trace_id"] for alert in alerts}
    assert by_kind == {"data_drift": format(span.get_span_context().trace_id, "032x"), "model_drift": None}
