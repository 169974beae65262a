"""The collector against real services: a model API (in a thread, its model registered in a real MLflow) serves
production and red-team traffic, a tracing service goes down and comes back as a new process, and a service
that does not exist is probed; each collection round is run by the test.

Expected figures are computed here from the model API's own prediction log and /metrics, never written down.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from mlsec.core.settings import Settings
from mlsec.services.business_metrics.app import create_app
from mlsec.services.business_metrics.service import collect, rollups
from mlsec.services.business_metrics.service.period import Period, Resolution, bucket_of, bucket_start
from mlsec.services.business_metrics.service.sketch import LatencySketch
from mlsec.services.business_metrics.settings import DEFAULT_BENIGN_LABELS
from mlsec.services.business_metrics.state import BusinessMetrics
from mlsec.services.model_api.app import create_app as create_model_api
from mlsec.services.model_api.settings import ModelApiSettings
from mlsec.services.tracing.app import create_app as create_tracing
from tests.api.business_metrics.conftest import business_settings, start
from tests.api.training.conftest import prompts_csv
from tests.conftest import make_settings
from tests.servers import ThreadedServer, free_port

pytestmark = pytest.mark.anyio
MODEL = "collect-detector"
EVERYTHING = Period(datetime(2020, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def _texts(rows: int, seed: int) -> list[str]:
    reader = csv.reader(io.StringIO(prompts_csv(rows, seed=seed).decode()))
    next(reader)
    return [text for text, _ in reader]


@pytest.fixture(scope="module")
def model_api(
    registered: Callable[..., str], tmp_path_factory: pytest.TempPathFactory, mlflow_server: str
) -> Iterator[str]:
    registered(MODEL)
    settings = make_settings(tmp_path_factory.mktemp("collect-serving"), mlflow_tracking_uri=mlflow_server)
    own = ModelApiSettings(_env_file=None, default_model=MODEL, log_queue=10_000)
    server = ThreadedServer(create_model_api(settings, own)).start()
    yield server.url
    server.stop()


def _settings(backend_settings: Settings, model_api: str, **urls: str) -> Settings:
    """The backend's settings pointed at the model API; every other service at a port nobody listens on."""
    nobody = f"http://127.0.0.1:{free_port()}"
    update: dict[str, Any] = {f"{name}_url": nobody for name in ("model_cache", "analytics", "training", "tracing")}
    update.update(model_api_url=model_api, http_retries=0, **urls)
    return backend_settings.model_copy(update=update)


async def _started(settings: Settings, *watched: str) -> AsyncIterator[FastAPI]:
    async for app in start(create_app(settings, business_settings(watched_services=list(watched)))):
        yield app


async def _send(model_api: str, texts: list[str], traffic_class: str | None = None) -> None:
    headers = {"X-Mlsec-Traffic-Class": traffic_class} if traffic_class else {}
    async with httpx.AsyncClient(base_url=model_api, timeout=60, headers=headers) as http:
        for first in range(0, len(texts), 25):
            answer = await http.post("/predict/batch", json={"texts": texts[first : first + 25], "model_name": MODEL})
            assert answer.status_code == 200, answer.text


async def _log(model_api: str, traffic_class: str | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"model_name": MODEL, "limit": 10_000}
    if traffic_class:
        params["traffic_class"] = traffic_class
    async with httpx.AsyncClient(base_url=model_api, timeout=30) as http:
        answer = await http.get("/predictions/log", params=params)
        assert answer.status_code == 200, answer.text
        records: list[dict[str, Any]] = answer.json()["records"]
        return records


async def _logged(model_api: str, total: int) -> list[dict[str, Any]]:
    """The production records once the log holds `total` records of every class (it is written asynchronously)."""
    for _ in range(200):
        if len(await _log(model_api)) >= total:
            return await _log(model_api, "production")
        await asyncio.sleep(0.05)
    raise AssertionError(f"the model API did not log {total} predictions")


async def _predictions(business: BusinessMetrics, resolution: Resolution) -> list[rollups.PredictionBucket]:
    async with business.ctx.db.session() as session:
        return await rollups.get_predictions(session, EVERYTHING, resolution, model_name=MODEL, service="model-api")


def _expected_minutes(records: list[dict[str, Any]]) -> dict[datetime, tuple[int, int, float]]:
    minutes: dict[datetime, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for record in records:
        row = minutes[bucket_start(bucket_of(datetime.fromisoformat(record["created_at"])))]
        row[0] += 1
        row[1] += record["label"] not in DEFAULT_BENIGN_LABELS
        row[2] += record["latency_ms"]
    return {start: (int(a), int(b), c) for start, (a, b, c) in minutes.items()}


async def _assert_rollups_hold(business: BusinessMetrics, records: list[dict[str, Any]]) -> None:
    """Per minute exactly the production records; hours and days their sums; p99 within 1%."""
    expected = _expected_minutes(records)
    minutes = await _predictions(business, "minute")
    assert {b.start: (b.predictions, b.threats) for b in minutes} == {s: v[:2] for s, v in expected.items()}
    for bucket in minutes:
        assert bucket.latency_ms_sum == pytest.approx(expected[bucket.start][2])
    threats = sum(v[1] for v in expected.values())
    hour_and_day: tuple[Resolution, ...] = ("hour", "day")
    for resolution in hour_and_day:
        coarse = await _predictions(business, resolution)
        assert sum(b.predictions for b in coarse) == len(records)
        assert sum(b.threats for b in coarse) == threats
    latencies = np.sort([r["latency_ms"] for r in records])
    merged = LatencySketch.merged(b.sketch for b in minutes)
    assert merged.quantile(0.99) == pytest.approx(latencies[int(0.99 * (len(latencies) - 1))], rel=0.01)


async def test_only_production_predictions_are_counted_once_across_restarts(
    backend_settings: Settings, model_api: str
) -> None:
    settings = _settings(backend_settings, model_api)
    before = len(await _log(model_api))
    await _send(model_api, _texts(60, seed=1))
    await _send(model_api, _texts(40, seed=2), traffic_class="redteam")
    records = await _logged(model_api, before + 100)
    assert {r["traffic_class"] for r in await _log(model_api)} >= {"production", "redteam"}
    async for app in _started(settings, "model-api"):
        business: BusinessMetrics = app.state.business
        await collect.run_round(business)
        await _assert_rollups_hold(business, records)
        await collect.run_round(business)  # nothing new: nothing added
        await _assert_rollups_hold(business, records)
        assert business.sources["predictions:model-api"].error_type is None
        assert business.sources["predictions:model-cache"].error_type in ("unreachable", "circuit_open")
    # More traffic while the service is stopped; a new process on the same database goes on from its cursor.
    await _send(model_api, _texts(30, seed=3))
    records = await _logged(model_api, before + 130)
    async for app in _started(settings, "model-api"):
        await collect.run_round(app.state.business)
        await _assert_rollups_hold(app.state.business, records)


def _counter(text: str, name: str) -> float:
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == name)


async def test_scrapes_give_cpu_memory_and_request_deltas(backend_settings: Settings, model_api: str) -> None:
    settings = _settings(backend_settings, model_api)
    async for app in _started(settings, "model-api", "training"):
        business: BusinessMetrics = app.state.business
        cpu_before = time.process_time()
        first = datetime(2026, 12, 6, 9, 0, 10, tzinfo=UTC)  # the two rounds fall in two minutes
        await collect.run_round(business, first)
        async with httpx.AsyncClient(base_url=model_api, timeout=60) as http:
            for text in _texts(12, seed=4):
                assert (await http.post("/predict", json={"text": text, "model_name": MODEL})).status_code == 200
            await _send(model_api, _texts(10, seed=5))  # one more prediction request (a batch)
            scraped = (await http.get("/metrics")).text
        second = first + timedelta(seconds=60)
        await collect.run_round(business, second)
        cpu_spent = time.process_time() - cpu_before
        async with business.ctx.db.session() as session:
            rows = {(b.service, b.start): b for b in await rollups.get_services(session, EVERYTHING, "minute")}
        serving = rows[("model-api", bucket_start(bucket_of(second)))]
        assert serving.prediction_requests == 13 and serving.prediction_errors == 0
        assert serving.requests >= 13 and serving.errors == 0
        assert 0 < serving.cpu_s <= cpu_spent  # the server runs in this process: its CPU is ours
        memory_gib = _counter(scraped, "process_resident_memory_bytes") / 1024**3
        assert serving.memory_gib_minutes == pytest.approx(memory_gib * 60 / 60, rel=0.2)
        assert serving.observed_s == 60 and serving.down_s == 0 and serving.healthy_probes == 1
        # The training service does not answer: down for both probes (the first covers one interval).
        down = [b for (service, _), b in rows.items() if service == "training"]
        assert sum(b.probes for b in down) == 2 and sum(b.healthy_probes for b in down) == 0
        assert sum(b.down_s for b in down) == sum(b.observed_s for b in down) == 3600 + 60
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            answer = (await http.get("/")).json()
        states = {s["service"]: s["healthy"] for s in answer["services"]}
        assert states == {"model-api": True, "training": False}


async def test_an_outage_and_a_restart_with_reset_counters(
    backend_settings: Settings, model_api: str, tmp_path: Any
) -> None:
    tracing_settings = make_settings(tmp_path / "tracing-home")
    tracing = ThreadedServer(create_tracing(tracing_settings)).start()
    settings = _settings(backend_settings, model_api, tracing_url=tracing.url)
    try:
        async for app in _started(settings, "tracing"):
            business: BusinessMetrics = app.state.business
            at = datetime(2026, 12, 6, 10, 0, 5, tzinfo=UTC)
            async with httpx.AsyncClient(base_url=tracing.url) as http:
                for _ in range(20):
                    await http.get("/health")
            await collect.run_round(business, at)
            tracing.stop()
            await collect.run_round(business, at + timedelta(seconds=60))
            await collect.run_round(business, at + timedelta(seconds=120))
            # Back as a new process: its request counter starts again from zero, below the last one scraped.
            tracing = ThreadedServer(create_tracing(tracing_settings), port=tracing.port).start()
            await collect.run_round(business, at + timedelta(seconds=180))
            async with httpx.AsyncClient(base_url=tracing.url) as http:
                total_now = _counter((await http.get("/metrics")).text, "mlsec_http_requests_total")
            async with business.ctx.db.session() as session:
                minutes = await rollups.get_services(session, EVERYTHING, "minute", service="tracing")
                hours = await rollups.get_services(session, EVERYTHING, "hour", service="tracing")
            assert [(b.healthy_probes, b.probes) for b in minutes] == [(1, 1), (0, 1), (0, 1), (1, 1)]
            assert [b.outages for b in minutes] == [0, 1, 0, 0]
            assert sum(b.down_s for b in minutes) == 120 and hours[0].down_s == 120 and hours[0].outages == 1
            # Since the restart: the new process's requests before the scrape (the probe), not a negative delta.
            assert minutes[-1].requests == total_now - 1 >= 1
            assert 1 - hours[0].down_s / hours[0].observed_s == pytest.approx(1 - 120 / (3600 + 180))
    finally:
        tracing.stop()
