"""`GET /performance`, `/throughput`, `/latency`: serving figures per model version and service health against
the story's raw records, and the tracing service's RED figures read live from a real tracing app (null, and
said so, when it is down)."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from mlsec.core.settings import Settings
from mlsec.services.business_metrics.state import BusinessMetrics
from mlsec.services.tracing.app import create_app as create_tracing
from tests.api.business_metrics.kpi_support import (
    CLOSED,
    MINUTES,
    Story,
    business_client,
    load,
    settings_with,
    story,
)
from tests.api.tracing.conftest import ingest, tracing_settings
from tests.conftest import make_settings
from tests.servers import ThreadedServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def tracing_server(tmp_path: Path) -> Iterator[ThreadedServer]:
    """A real tracing service on a local port."""
    server = ThreadedServer(create_tracing(make_settings(tmp_path / "tracing"), tracing_settings())).start()
    yield server
    server.stop()


async def _started(settings: Settings, told: Story) -> AsyncIterator[httpx.AsyncClient]:
    async for http, app in business_client(settings):
        await load(_state(app), told)
        yield http


def _state(app: FastAPI) -> BusinessMetrics:
    state: BusinessMetrics = app.state.business
    return state


@pytest.fixture
def told() -> Story:
    return story()


@pytest.fixture
async def offline(backend_settings: Settings, told: Story) -> AsyncIterator[httpx.AsyncClient]:
    """The service with the story loaded and the tracing service unreachable."""
    async for http in _started(settings_with(backend_settings, tracing_url=CLOSED), told):
        yield http


async def test_per_model_version_and_service(offline: httpx.AsyncClient, told: Story) -> None:
    response = await offline.get("/performance", params=told.params)
    assert response.status_code == 200, response.text
    body = response.json()
    models = {m["model_version"]: m for m in body["models"]}
    for version in ("1", "2"):
        row = models[version]
        assert row["predictions"] == len(told.of(version))
        assert row["throughput_per_s"] == pytest.approx(len(told.of(version)) / told.seconds)
        for q in (50, 95, 99):
            expected = np.percentile(told.latencies(version), q, method="lower")
            assert row[f"latency_p{q}_ms"] == pytest.approx(expected, rel=0.01)
    api = [s for _, s in told.services["model-api"]]
    assert models["1"]["error_rate"] == pytest.approx(
        sum(s.prediction_errors for s in api) / sum(s.prediction_requests for s in api)
    )
    served = api[5:]  # version 2 was on the model API for the last five minutes, on the cache (no errors) before
    assert models["2"]["error_rate"] == pytest.approx(
        sum(s.prediction_errors for s in served) / sum(s.prediction_requests for s in served)
    )
    services = {s["service"]: s for s in body["services"]}
    observed, down, outages = told.down("model-api")
    assert services["model-api"]["availability"] == pytest.approx(1 - down / observed)
    assert services["model-api"]["mttr_s"] == pytest.approx(down / outages)
    assert services["model-api"]["outages"] == outages == 1
    assert services["model-cache"]["availability"] == 1.0 and services["model-cache"]["mttr_s"] is None


async def test_tracing_down_is_said_not_failed(offline: httpx.AsyncClient, told: Story) -> None:
    body = (await offline.get("/performance", params=told.params)).json()
    assert body["sources"]["tracing"] == {"status": "unavailable", "error": "unreachable"}
    assert all(s["red"] is None for s in body["services"])
    assert body["tracing_window_minutes"] == MINUTES


async def test_red_figures_from_the_tracing_service(
    backend_settings: Settings, told: Story, tracing_server: ThreadedServer
) -> None:
    durations = [5.0 + i for i in range(20)]
    spans = [
        {
            "service": "model-api",
            "trace_id": os.urandom(16).hex(),
            "span_id": os.urandom(8).hex(),
            "name": "POST /predict",
            "kind": "server",
            "duration_ms": duration,
            "status": "error" if i < 3 else "ok",
        }
        for i, duration in enumerate(durations)
    ]
    async with httpx.AsyncClient(base_url=tracing_server.url) as tracing:
        await ingest(tracing, spans)
    settings = settings_with(backend_settings, tracing_url=tracing_server.url)
    async for http in _started(settings, told):
        body = (await http.get("/performance", params={"period": "1h"})).json()
    assert body["sources"]["tracing"] == {"status": "ok", "error": None}
    red = {s["service"]: s["red"] for s in body["services"]}["model-api"]
    assert red["count"] == 20 and red["errors"] == 3
    assert red["error_rate"] == pytest.approx(3 / 20)
    assert red["rate_per_s"] == pytest.approx(20 / 3600, rel=1e-3)
    assert red["p99_ms"] == pytest.approx(max(durations), rel=0.05)


async def test_throughput_and_latency_series(offline: httpx.AsyncClient, told: Story) -> None:
    throughput = (await offline.get("/throughput", params=told.params)).json()
    minutes = [told.base + timedelta(minutes=m) for m in range(MINUTES)]
    by_minute: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for p in told.predictions:
        by_minute[p.model_version][int((p.at - told.base).total_seconds() // 60)].append(p.latency_ms)
    total = [sum(len(by_minute[v][m]) for v in by_minute) / 60 for m in range(MINUTES)]
    assert [p["value"] for p in throughput["total"]] == [pytest.approx(t) for t in total]
    series = {s["model_version"]: s["points"] for s in throughput["models"]}
    assert [p["value"] for p in series["2"]] == [pytest.approx(len(by_minute["2"][m]) / 60) for m in range(MINUTES)]
    latency = (await offline.get("/latency", params={**told.params, "model_version": "1"})).json()
    assert [m["model_version"] for m in latency["models"]] == ["1"]
    points = latency["models"][0]["points"]
    assert [p["start"] for p in points] == [m.isoformat().replace("+00:00", "Z") for m in minutes]
    for m, point in enumerate(points):
        expected = np.percentile(by_minute["1"][m], 99, method="lower")
        assert point["p99_ms"] == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/performance", {"period": "15"}),
        ("/throughput", {"period": "30d", "resolution": "minute"}),
        ("/latency", {"resolution": "second"}),
        ("/latency", {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}),
    ],
)
async def test_bad_input_is_a_422_envelope(offline: httpx.AsyncClient, path: str, params: dict[str, str]) -> None:
    response = await offline.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"] is True
