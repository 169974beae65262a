"""SLAs: set, list and delete; compliance figures computed here from the raw records the test loads; breaches
stored once per start, counted as events and published after each collect round."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest

from mlsec.core.events import Event
from mlsec.services.business_metrics.service import slas
from mlsec.services.business_metrics.service.period import Period
from mlsec.services.business_metrics.service.rollups import PredictionSample, ServiceSample, get_events
from mlsec.services.business_metrics.state import BusinessMetrics
from tests.api.business_metrics.conftest import prediction

pytestmark = pytest.mark.anyio
LoadPredictions = Callable[[Iterable[PredictionSample]], Awaitable[None]]
LoadServices = Callable[[str, Iterable[tuple[datetime, ServiceSample]]], Awaitable[None]]
FAST = [float(ms) for ms in range(1, 201)]  # version 1 on the model API
SLOW = [float(ms) for ms in range(500, 600)]  # version 2 on the model cache


def p99_bounds(latencies: list[float]) -> tuple[float, float]:
    """Where a 1 %-accurate p99 of these latencies must lie."""
    low = float(np.quantile(latencies, 0.99, method="lower"))
    high = float(np.quantile(latencies, 0.99, method="higher"))
    return low * 0.99, high * 1.01


def minute(now: datetime, back: int) -> datetime:
    return now.replace(second=0, microsecond=0) - timedelta(minutes=back)


async def load_traffic(now: datetime, load_predictions: LoadPredictions, load_services: LoadServices) -> None:
    """Version 1 (fast) on the model API, which was down 1 probe of 10 and failed 3 of 300 prediction requests;
    version 2 (slow) on the model cache, always up, no failure."""
    await load_predictions(prediction(minute(now, 20), model_version="1", latency_ms=ms) for ms in FAST)
    await load_predictions(
        prediction(minute(now, 15), model_version="2", latency_ms=ms, service="model-cache") for ms in SLOW
    )
    api = [
        (
            minute(now, 30 - i),
            ServiceSample(healthy=i != 4, interval_s=60.0, prediction_requests=30, prediction_errors=1 if i < 3 else 0),
        )
        for i in range(10)
    ]
    cache = [
        (minute(now, 30 - i), ServiceSample(healthy=True, interval_s=60.0, prediction_requests=10)) for i in range(10)
    ]
    await load_services("model-api", api)
    await load_services("model-cache", cache)


async def test_an_sla_is_set_replaced_listed_and_deleted(client: httpx.AsyncClient) -> None:
    created = await client.put("/slas/detector", json={"latency_p99_ms": 250, "window_minutes": 30})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["model_version"], body["latency_p99_ms"], body["availability_min"], body["window_minutes"]) == (
        None,
        250.0,
        None,
        30,
    )
    replaced = await client.put("/slas/detector", json={"availability_min": 0.99})
    assert replaced.status_code == 200 and replaced.json()["id"] == body["id"]
    assert (replaced.json()["latency_p99_ms"], replaced.json()["window_minutes"]) == (None, 60)
    versioned = await client.put("/slas/detector", json={"model_version": "2", "error_rate_max": 0.05})
    assert versioned.status_code == 201
    listed = (await client.get("/slas")).json()
    assert listed["total"] == 2 and [s["model_version"] for s in listed["slas"]] == [None, "2"]
    assert (await client.delete("/slas/detector", params={"model_version": "2"})).status_code == 204
    gone = await client.delete("/slas/detector", params={"model_version": "2"})
    assert gone.status_code == 404 and "version 2" in gone.json()["message"]
    assert [s["model_version"] for s in (await client.get("/slas")).json()["slas"]] == [None]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"window_minutes": 30},
        {"latency_p99_ms": 0},
        {"latency_p99_ms": "250"},
        {"availability_min": 1.5},
        {"error_rate_max": -0.1},
        {"latency_p99_ms": 10, "window_minutes": 0},
        {"latency_p99_ms": 10, "model_version": "../x"},
        {"latency_p99_ms": 10, "model_version": "champion"},
        {"latency_p99_ms": 10, "surprise": 1},
    ],
)
async def test_bad_slas_are_refused(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    answer = await client.put("/slas/detector", json=body)
    assert answer.status_code == 422 and answer.json()["error"] is True
    assert (await client.get("/slas")).json()["total"] == 0


async def test_compliance_is_judged_on_the_figures_of_the_loaded_records(
    client: httpx.AsyncClient, load_predictions: LoadPredictions, load_service_samples: LoadServices
) -> None:
    now = datetime.now(UTC)
    await load_traffic(now, load_predictions, load_service_samples)
    missing = await client.get("/slas/detector/compliance")
    assert missing.status_code == 404
    sla = {"latency_p99_ms": 250, "availability_min": 0.85, "error_rate_max": 0.02, "window_minutes": 60}
    assert (await client.put("/slas/detector", json=sla)).status_code == 201
    answer = (await client.get("/slas/detector/compliance")).json()
    assert answer["compliant"] is False
    versions = {row["model_version"]: row for row in answer["versions"]}
    assert set(versions) == {"1", "2"}
    fast, slow = versions["1"], versions["2"]
    assert fast["measured"]["predictions"] == len(FAST) and fast["measured"]["services"] == ["model-api"]
    low, high = p99_bounds(FAST)
    assert low <= fast["measured"]["latency_p99_ms"] <= high
    assert fast["measured"]["availability"] == pytest.approx(1 - 60 / 600)  # one probe of ten found it down
    assert fast["measured"]["error_rate"] == pytest.approx(3 / 300)
    assert fast["compliant"] is True and all(o["met"] for o in fast["objectives"])
    low, high = p99_bounds(SLOW)
    objectives = {o["objective"]: o for o in slow["objectives"]}
    assert low <= objectives["latency_p99_ms"]["value"] <= high and objectives["latency_p99_ms"]["met"] is False
    assert (objectives["availability"]["value"], objectives["error_rate"]["value"]) == (1.0, 0.0)
    assert slow["compliant"] is False and slow["breaches"] == 0

    own = {"model_version": "2", "latency_p99_ms": 1000}
    assert (await client.put("/slas/detector", json=own)).status_code == 201
    answer = (await client.get("/slas/detector/compliance")).json()
    assert answer["compliant"] is True
    slow = next(row for row in answer["versions"] if row["model_version"] == "2")
    assert [o["objective"] for o in slow["objectives"]] == ["latency_p99_ms"] and slow["compliant"] is True


async def test_a_version_without_traffic_or_sla_and_a_given_period(
    client: httpx.AsyncClient, load_predictions: LoadPredictions, load_service_samples: LoadServices
) -> None:
    now = datetime.now(UTC)
    await load_traffic(now, load_predictions, load_service_samples)
    assert (await client.put("/slas/detector", json={"model_version": "1", "latency_p99_ms": 100})).status_code == 201
    quiet = (await client.get("/slas/detector/compliance", params={"period": "10m"})).json()
    assert quiet["compliant"] is None
    assert quiet["versions"][0]["measured"]["predictions"] == 0 and quiet["versions"][0]["objectives"][0]["met"] is None
    other = (await client.get("/slas/detector/compliance", params={"model_version": "2", "period": "1h"})).json()
    row = other["versions"][0]
    assert (row["sla_id"], row["compliant"], row["objectives"]) == (None, None, [])
    assert row["measured"]["predictions"] == len(SLOW)
    bad = await client.get("/slas/detector/compliance", params={"period": "yesterday"})
    assert bad.status_code == 422


async def test_a_breach_is_stored_counted_and_published_once_per_start(
    client: httpx.AsyncClient,
    business: BusinessMetrics,
    load_predictions: LoadPredictions,
    load_service_samples: LoadServices,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    published: list[Event] = []

    def publish(event: Event) -> bool:
        published.append(event)
        return True

    monkeypatch.setattr(business.ctx.events, "publish", publish)
    now = datetime.now(UTC)
    await load_traffic(now, load_predictions, load_service_samples)
    assert (await client.put("/slas/detector", json={"latency_p99_ms": 250, "window_minutes": 60})).status_code == 201
    for minutes in (0, 1, 5):  # three rounds while the slow traffic is in the window: one breach
        await slas.check_after_collect(business, now + timedelta(minutes=minutes))
    assert [(e.topic, e.type) for e in published] == [("business", "sla.breached")]
    payload = published[0].payload
    low, high = p99_bounds(SLOW)
    assert (payload["model_version"], payload["objective"], payload["threshold"]) == ("2", "latency_p99_ms", 250.0)
    assert low <= float(payload["value"]) <= high
    breaches = (await client.get("/slas/breaches", params={"model_name": "detector"})).json()
    assert breaches["total"] == 1
    breach = breaches["breaches"][0]
    assert breach["id"] == payload["breach_id"] and breach["detected_at"].startswith(now.isoformat()[:19])
    assert datetime.fromisoformat(breach["window_end"]) == now + timedelta(minutes=5)

    later = now + timedelta(hours=3)  # the slow traffic has left every window; it comes back
    await slas.check_after_collect(business, later - timedelta(minutes=30))
    assert len(published) == 1
    await load_predictions(
        prediction(minute(later, 5), model_version="2", latency_ms=ms, service="model-cache") for ms in SLOW
    )
    await slas.check_after_collect(business, later)
    assert len(published) == 2 and (await client.get("/slas/breaches")).json()["total"] == 2
    compliance = (await client.get("/slas/detector/compliance", params={"model_version": "2", "period": "1h"})).json()
    assert compliance["versions"][0]["breaches"] == 1  # counted in the window asked for: the first breach only
    async with business.ctx.db.session() as session:
        events = await get_events(session, Period(now - timedelta(hours=1), later + timedelta(hours=1)), "minute")
    assert sorted((e.kind, e.model_name, e.count) for e in events) == [("sla_breach", "detector", 1)] * 2


async def test_the_breach_list_is_bounded(client: httpx.AsyncClient) -> None:
    assert (await client.get("/slas/breaches", params={"limit": 0})).status_code == 422
    assert (await client.get("/slas/breaches", params={"limit": 5})).json() == {"breaches": [], "total": 0, "limit": 5}
