"""What one collection round of the business-metrics service costs, against a real model API.

The model API runs as a user starts it (`python -m mlsec serve model-api`, the default model trained and
registered in a real MLflow, as the serving suite sets it up) and serves K production predictions through
`/predict/batch`; its prediction log then holds them. A business-metrics service, started in this process
(its app and lifespan, collector schedule off, watching the model API only), runs one collection round
(`service/collect.py`'s `run_round`, what the schedule runs) and then a second with nothing new. Measured: this
process's CPU seconds and the wall time of each round, and the model API's CPU seconds answering it; checked:
the rollups hold exactly the K predictions afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from benchmarks import serving
from benchmarks._servers import BenchmarkError, free_port
from benchmarks.serving import MODEL_NAME, Server, wait_ready

BATCH = 100
LOG_WAIT_S = 120.0


def _send(api: Server, texts: list[str], predictions: int) -> float:
    """`predictions` production predictions through `/predict/batch`, BATCH at a time; seconds taken."""
    started = time.monotonic()
    with httpx.Client(timeout=serving.REQUEST_TIMEOUT_SECONDS, trust_env=False) as client:
        for first in range(0, predictions, BATCH):
            batch = [texts[(first + i) % len(texts)] for i in range(min(BATCH, predictions - first))]
            answer = client.post(api.url("/predict/batch"), json={"texts": batch, "model_name": MODEL_NAME})
            if answer.status_code != 200:
                raise BenchmarkError(f"/predict/batch answered {answer.status_code}: {answer.text[:300]}")
    return time.monotonic() - started


def _logged(api: Server) -> int:
    """Production records in the model API's prediction log (paged by id)."""
    count, after = 0, 0
    with httpx.Client(timeout=60, trust_env=False) as client:
        while True:
            page = client.get(
                api.url("/predictions/log"),
                params={"model_name": MODEL_NAME, "after_id": after, "limit": 10_000, "traffic_class": "production"},
            ).json()
            records = page.get("records", [])
            count += len(records)
            if not records or page.get("next_after_id") is None:
                return count
            after = max(int(record["id"]) for record in records)


def _wait_logged(api: Server, predictions: int) -> None:
    """The log is written in the background: wait until it holds every prediction sent."""
    deadline = time.monotonic() + LOG_WAIT_S
    while (found := _logged(api)) < predictions:
        if time.monotonic() > deadline:
            raise BenchmarkError(f"the model API logged {found} of {predictions} predictions")
        time.sleep(0.5)


async def _rounds(api: Server, home: Path) -> dict[str, Any]:
    """Two rounds of a business-metrics app in this process: with the log's records new, then with nothing new."""
    from mlsec.core.settings import Settings
    from mlsec.services.business_metrics.app import create_app
    from mlsec.services.business_metrics.service import collect, rollups
    from mlsec.services.business_metrics.service.period import Period
    from mlsec.services.business_metrics.settings import BusinessMetricsSettings

    nobody = f"http://127.0.0.1:{free_port()}"
    settings = Settings(
        _env_file=None,
        home=home,
        trace_export=False,
        cache_backend="memory",
        events_backend="http",
        database_url=None,
        postgres_url=None,
        redis_url=None,
        redis_host=None,
        http_retries=0,
        model_api_url=api.url(""),
        model_cache_url=nobody,
        analytics_url=nobody,
        training_url=nobody,
        tracing_url=nobody,
    )
    own = BusinessMetricsSettings(collect_enabled=False, watched_services=["model-api"])
    app = create_app(settings, own)
    logging.getLogger("mlsec.business_metrics.collect").setLevel(logging.ERROR)  # the dead sources, each round
    figures: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        business = app.state.business
        for name in ("new records", "nothing new"):
            cpu, api_cpu, wall = time.process_time(), api.cpu_seconds(), time.perf_counter()
            await collect.run_round(business)
            figures[name] = {
                "collector_cpu_s": round(time.process_time() - cpu, 3),
                "wall_s": round(time.perf_counter() - wall, 3),
                "model_api_cpu_s": round(api.cpu_seconds() - api_cpu, 3),
                "records": business.source("predictions:model-api").records,
            }
        everything = Period(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
        async with business.ctx.db.session() as session:
            buckets = await rollups.get_predictions(session, everything, "minute", model_name=MODEL_NAME)
        figures["stored_predictions"] = sum(bucket.predictions for bucket in buckets)
        figures["sources_failed"] = sorted(name for name, s in business.sources.items() if s.error_type)
    return figures


def collection_round(stack: ExitStack, workdir: Path, predictions: int, console: Console) -> dict[str, Any]:
    """Set up MLflow and the model API, log `predictions` production predictions, time the collector's rounds."""
    setup: dict[str, Any] = {}
    tracking_uri, data = serving.start_registry(stack, workdir, console, setup)
    port = free_port()
    started = time.monotonic()
    api = serving.start_model_api(stack, workdir, tracking_uri, port)
    wait_ready(api, ["/health/live"], started)
    serving.warm_model_api(api, setup)
    console.log(f"model API live on :{port}; sending {predictions:,} production predictions ...")
    send_s = _send(api, data.texts, predictions)
    _wait_logged(api, predictions)
    console.log("running two collection rounds ...")
    figures = asyncio.run(_rounds(api, workdir / "collector-home"))
    first = figures["new records"]
    figures["predictions"] = predictions
    figures["send_s"] = round(send_s, 1)
    figures["collector_cpu_ms_per_1k"] = round(first["collector_cpu_s"] / predictions * 1e6, 1)
    marginal = first["collector_cpu_s"] - figures["nothing new"]["collector_cpu_s"]
    figures["collector_marginal_cpu_ms_per_1k"] = round(marginal / predictions * 1e6, 1)
    figures["model_api_cpu_ms_per_1k"] = round(first["model_api_cpu_s"] / predictions * 1e6, 1)
    figures["all_counted"] = figures["stored_predictions"] == predictions and first["records"] == predictions
    console.log(
        f"collection round: {first['collector_cpu_s']:.2f} s CPU for {predictions:,} records "
        f"({figures['collector_cpu_ms_per_1k']:.0f} ms per 1,000), stored {figures['stored_predictions']:,}"
    )
    return figures
