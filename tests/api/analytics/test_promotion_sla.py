"""The SLA promotion criterion against a real MLflow registry, a real model API and a real business-metrics service
(each in a thread): the challenger's production figures are the rollups written into business-metrics here, and
the decision's `sla` check is compared with the objective and with figures computed from those records."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from mlsec.services.analytics.app import create_app
from mlsec.services.business_metrics.app import create_app as create_business_metrics
from mlsec.services.business_metrics.service.rollups import PredictionSample, add_predictions
from mlsec.services.model_api.app import create_app as create_model_api
from mlsec.services.model_api.settings import ModelApiSettings
from tests.api.analytics.conftest import analytics_settings
from tests.api.business_metrics.conftest import business_settings, start
from tests.api.training.conftest import prompts_csv
from tests.conftest import make_settings, started_client
from tests.servers import ThreadedServer

pytestmark = pytest.mark.anyio
MODEL = "sla-detector"
SLOW = [300.0 + i for i in range(50)]  # the challenger's production latencies (ms), 10 minutes ago


@pytest.fixture(scope="module")
def versions(registered: Callable[..., str]) -> tuple[str, str]:
    return registered(MODEL, seed=0), registered(MODEL, seed=1)


@pytest.fixture(scope="module")
def model_api(mlflow_server: str, versions: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings(tmp_path_factory.mktemp("sla-serving"), mlflow_tracking_uri=mlflow_server)
    server = ThreadedServer(create_model_api(settings, ModelApiSettings(_env_file=None, default_model=MODEL))).start()
    yield server.url
    server.stop()


async def _load_challenger_traffic(home: Path, challenger: str) -> None:
    """Write the challenger's production predictions through business-metrics' own writer, then stop it."""
    samples = [
        PredictionSample(datetime.now(UTC) - timedelta(minutes=10), "model-api", MODEL, challenger, "0", ms)
        for ms in SLOW
    ]
    async for app in start(create_business_metrics(make_settings(home), business_settings())):
        business = app.state.business
        async with business.ctx.db.session() as session:
            await add_predictions(session, samples, business.settings.benign_labels)


@pytest.fixture
async def business_metrics(tmp_path: Path, versions: tuple[str, str]) -> AsyncIterator[ThreadedServer]:
    home = tmp_path / "business-home"
    await _load_challenger_traffic(home, versions[1])
    server = ThreadedServer(create_business_metrics(make_settings(home), business_settings())).start()
    yield server
    server.stop()


@pytest.fixture
async def analytics(
    tmp_path: Path, mlflow_server: str, model_api: str, business_metrics: ThreadedServer, versions: tuple[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        tmp_path / "home",
        mlflow_tracking_uri=mlflow_server,
        model_api_url=model_api,
        business_metrics_url=business_metrics.url,
        http_retries=0,
    )
    async for client in started_client(create_app(settings, analytics_settings())):
        await _feedback(client, model_api, versions[0])
        yield client


async def _feedback(analytics: httpx.AsyncClient, model_api: str, version: str) -> None:
    """Labelled feedback with its texts (its held-out part is what both versions are evaluated on)."""
    reader = csv.reader(io.StringIO(prompts_csv(120, seed=9).decode()))
    next(reader)
    rows = list(reader)
    async with httpx.AsyncClient(base_url=model_api, timeout=60) as client:
        answer = (await client.post("/predict/batch", json={"texts": [t for t, _ in rows], "model_name": MODEL})).json()
    items = [
        {
            "model_name": MODEL,
            "model_version": version,
            "prediction": str(p["label"]),
            "true_label": label,
            "text": text,
        }
        for (text, label), p in zip(rows, answer["predictions"], strict=True)
    ]
    assert (await analytics.post("/feedback", json={"items": items})).status_code == 201


async def _criteria(analytics: httpx.AsyncClient, **promotion: Any) -> None:
    body = {"model_name": MODEL, "promotion": {"max_redteam_drop": None, "n_resamples": 200, **promotion}}
    assert (await analytics.put("/auto-retrain/config", json=body)).status_code == 200


async def _set_sla(business_metrics: ThreadedServer, model_name: str = MODEL, **sla: Any) -> None:
    async with httpx.AsyncClient(base_url=business_metrics.url) as client:
        answer = await client.put(f"/slas/{model_name}", json=sla)
        assert answer.status_code in (200, 201), answer.text


async def _evaluate(
    analytics: httpx.AsyncClient, challenger: str, *, promote: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ledger record of an evaluation and its `sla` check (promote=False where the SLA lets the challenger
    through: the registry's champion stays the same for the next test whatever the other checks say)."""
    body = {"challenger_version": challenger, "promote": promote}
    answer = await analytics.post(f"/promotion/evaluate/{MODEL}", json=body)
    assert answer.status_code == 200, answer.text
    record = answer.json()
    [check] = [c for c in record["evidence"]["decision"]["checks"] if c["name"] == "sla"]
    return record, check


async def test_a_challenger_that_breaks_the_champions_sla_is_not_promoted(
    analytics: httpx.AsyncClient, business_metrics: ThreadedServer, versions: tuple[str, str]
) -> None:
    champion, challenger = versions
    await _criteria(analytics, sla=True)
    await _set_sla(business_metrics, latency_p99_ms=100.0, window_minutes=60)
    record, check = await _evaluate(analytics, challenger, promote=True)
    assert (record["action"], record["champion_after"]) == ("rejected", champion)
    assert check["passed"] is False and check["applicable"] is True and check["observed"] == 1.0
    assert "sla" in record["evidence"]["decision"]["failed_checks"]
    assert "the challenger breaks the SLA (latency_p99_ms" in check["detail"] and "> 100" in check["detail"]
    seen = record["evidence"]["sla"]
    assert (seen["sla"]["latency_p99_ms"], seen["sla"]["model_version"], seen["window_minutes"]) == (100.0, None, 60)
    measured = seen["challenger_measured"]
    assert measured["predictions"] == len(SLOW) and measured["services"] == ["model-api"]
    low, high = np.quantile(SLOW, 0.99, method="lower"), np.quantile(SLOW, 0.99, method="higher")
    assert low * 0.99 <= measured["latency_p99_ms"] <= high * 1.01


async def test_an_sla_the_challenger_keeps_or_no_sla_of_the_champion(
    analytics: httpx.AsyncClient, business_metrics: ThreadedServer, versions: tuple[str, str]
) -> None:
    champion, challenger = versions
    await _criteria(analytics, sla=True)
    await _set_sla(business_metrics, "other-model", latency_p99_ms=1.0)
    _, check = await _evaluate(analytics, challenger)
    assert check["applicable"] is False and f"no SLA for its champion (version {champion})" in check["detail"]
    await _set_sla(business_metrics, model_version=champion, latency_p99_ms=1000.0)
    _, check = await _evaluate(analytics, challenger)
    assert (check["passed"], check["applicable"], check["observed"]) == (True, True, 0.0)
    assert "latency_p99_ms" in check["detail"] and "<= 1000" in check["detail"]


async def test_a_challenger_without_traffic_in_the_window_follows_the_policy(
    analytics: httpx.AsyncClient, business_metrics: ThreadedServer, versions: tuple[str, str]
) -> None:
    _, challenger = versions
    await _set_sla(business_metrics, latency_p99_ms=100.0, window_minutes=2)  # the traffic is 10 minutes old
    await _criteria(analytics, sla=True)
    record, check = await _evaluate(analytics, challenger)
    assert check["passed"] is True and "could not be judged" in check["detail"] and "0 predictions" in check["detail"]
    assert record["evidence"]["sla"]["challenger_measured"]["predictions"] == 0
    await _criteria(analytics, sla=True, sla_unmeasured="reject")
    record, check = await _evaluate(analytics, challenger, promote=True)
    assert check["passed"] is False and record["action"] == "rejected"


async def test_business_metrics_down_refuses_the_promotion_and_off_means_not_asked(
    analytics: httpx.AsyncClient, business_metrics: ThreadedServer, versions: tuple[str, str]
) -> None:
    champion, challenger = versions
    await _set_sla(business_metrics, latency_p99_ms=100.0)
    business_metrics.stop()
    _, check = await _evaluate(analytics, challenger)  # the criterion is off by default: nothing asked
    assert check["applicable"] is False and check["detail"] == "criteria.sla is false"
    await _criteria(analytics, sla=True)
    record, check = await _evaluate(analytics, challenger, promote=True)
    assert (record["action"], record["champion_after"]) == ("rejected", champion)
    assert check["passed"] is False and "business-metrics did not give the SLA figures" in check["detail"]
    assert "nothing is promoted" in check["detail"]
