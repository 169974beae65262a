"""`GET /security`, `/threats` and `/compliance`: threats and detection quality against the story's raw records,
the red team's detection rate read live from a real analytics app, and the data-privacy service's compliance
status read live from a real data-privacy app; when either is down the answer says so instead of failing."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlsec.core.settings import Settings
from mlsec.ml.redteam import SEED_PROMPTS, generate_attacks, run_suite
from mlsec.services.analytics.app import create_app as create_analytics
from mlsec.services.business_metrics.state import BusinessMetrics
from mlsec.services.data_privacy.app import create_app as create_privacy
from tests.api.analytics.conftest import analytics_settings
from tests.api.business_metrics.kpi_support import (
    BENIGN,
    CLOSED,
    MINUTES,
    Story,
    business_client,
    load,
    settings_with,
    story,
)
from tests.api.data_privacy.conftest import privacy_settings
from tests.conftest import make_settings
from tests.servers import ThreadedServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def told() -> Story:
    return story()


async def _started(settings: Settings, told: Story) -> AsyncIterator[httpx.AsyncClient]:
    async for http, app in business_client(settings):
        state: BusinessMetrics = app.state.business
        await load(state, told)
        yield http


@pytest.fixture
async def offline(backend_settings: Settings, told: Story) -> AsyncIterator[httpx.AsyncClient]:
    """The service with the story loaded and analytics and data-privacy unreachable."""
    async for http in _started(settings_with(backend_settings, analytics_url=CLOSED, data_privacy_url=CLOSED), told):
        yield http


@pytest.fixture
def live(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Real analytics and data-privacy services on local ports (their own peers unreachable)."""
    settings = make_settings(
        tmp_path / "peers", model_api_url=CLOSED, training_url=CLOSED, model_cache_url=CLOSED, http_retries=0
    )
    analytics = ThreadedServer(create_analytics(settings, analytics_settings())).start()
    privacy = ThreadedServer(create_privacy(settings, privacy_settings())).start()
    yield {"analytics_url": analytics.url, "data_privacy_url": privacy.url}
    analytics.stop()
    privacy.stop()


async def test_threats_and_detection_quality(offline: httpx.AsyncClient, told: Story) -> None:
    response = await offline.get("/security", params=told.params)
    assert response.status_code == 200, response.text
    body = response.json()
    totals = body["totals"]
    assert totals["predictions"] == len(told.predictions)
    assert totals["threats_detected"] == told.threats() == totals["threats_blocked"]
    assert totals["threat_rate"] == pytest.approx(told.threats() / len(told.predictions))
    tp, fn = sum(r.tp for r in told.feedback), sum(r.fn for r in told.feedback)
    fp, tn = sum(r.fp for r in told.feedback), sum(r.tn for r in told.feedback)
    assert totals["detection_rate"] == pytest.approx(tp / (tp + fn))
    assert totals["false_positive_rate"] == pytest.approx(fp / (fp + tn))
    assert totals["drift_alerts"] == 3 and body["drift_alerts"] == {"detector": 3}
    for row in body["models"]:
        fb = next(r for r in told.feedback if r.model_version == row["model_version"])
        assert row["feedback"] == {"tp": fb.tp, "fp": fb.fp, "tn": fb.tn, "fn": fb.fn}
        assert row["detection_rate"] == pytest.approx(fb.tp / (fb.tp + fb.fn))
        assert row["false_positive_rate"] == pytest.approx(fb.fp / (fb.fp + fb.tn))
        assert row["threats_detected"] == told.threats(row["model_version"])


async def test_sources_down_are_said_not_failed(offline: httpx.AsyncClient, told: Story) -> None:
    security = (await offline.get("/security", params=told.params)).json()
    assert security["red_team"] is None
    assert security["sources"]["analytics"] == {"status": "unavailable", "error": "unreachable"}
    compliance = await offline.get("/compliance")
    assert compliance.status_code == 200, compliance.text
    assert compliance.json()["privacy"] is None
    assert compliance.json()["sources"]["data-privacy"]["status"] == "unavailable"


async def test_sla_compliance_of_every_version(offline: httpx.AsyncClient, told: Story) -> None:
    p99 = {version: told.percentile(0.99, version) for version in ("1", "2")}
    assert p99["1"] < p99["2"]
    threshold = (p99["1"] + p99["2"]) / 2  # version 1 keeps it, version 2 does not
    put = await offline.put("/slas/detector", json={"latency_p99_ms": threshold})
    assert put.status_code in (200, 201), put.text
    body = (await offline.get("/compliance", params=told.params)).json()
    rows = {row["model_version"]: row for row in body["slas"]}
    assert set(rows) == {"1", "2"}
    assert rows["1"]["compliant"] is True and rows["2"]["compliant"] is False
    for version, row in rows.items():
        (objective,) = row["objectives"]
        assert objective["objective"] == "latency_p99_ms" and objective["threshold"] == pytest.approx(threshold)
        assert objective["value"] == pytest.approx(p99[version], rel=0.01)


def _report() -> dict[str, Any]:
    """A red-team run made outside the service by a rule that flags one word (as `mlsec redteam` uploads)."""
    attacks = generate_attacks(SEED_PROMPTS, ["plain", "leetspeak"], seed=1)
    return run_suite(lambda texts: ["1" if "password" in t.lower() else "0" for t in texts], attacks).to_dict()


async def test_red_team_and_compliance_read_live(backend_settings: Settings, told: Story, live: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=live["analytics_url"]) as analytics:
        body = {"model_name": "detector", "model_version": "2", "report": _report()}
        stored = await analytics.post("/red-team/results", json=body)
        assert stored.status_code == 201, stored.text
    async with httpx.AsyncClient(base_url=live["data_privacy_url"]) as privacy:
        status = (await privacy.get("/compliance/status")).json()
    async for http in _started(settings_with(backend_settings, **live), told):
        security = (await http.get("/security", params=told.params)).json()
        compliance = (await http.get("/compliance")).json()
    assert security["sources"]["analytics"] == {"status": "ok", "error": None}
    (run,) = security["red_team"]
    assert run["model_name"] == "detector" and run["model_version"] == "2"
    assert run["detection_rate"] == pytest.approx(stored.json()["detection_rate"])
    assert run["attempts"] == stored.json()["attempts"] > 0
    assert compliance["sources"]["data-privacy"] == {"status": "ok", "error": None}
    assert compliance["privacy"]["status"] == status["status"]
    assert {c["name"] for c in compliance["privacy"]["checks"]} == {c["name"] for c in status["checks"]}


async def test_threat_series_per_model(offline: httpx.AsyncClient, told: Story) -> None:
    body = (await offline.get("/threats", params=told.params)).json()
    (model,) = body["models"]
    assert model["model_name"] == "detector"
    minute = Counter(int((p.at - told.base).total_seconds() // 60) for p in told.predictions)
    threats = Counter(int((p.at - told.base).total_seconds() // 60) for p in told.predictions if p.label not in BENIGN)
    assert [p["predictions"] for p in model["points"]] == [minute[m] for m in range(MINUTES)]
    assert [p["threats"] for p in model["points"]] == [threats[m] for m in range(MINUTES)]
    assert model["points"][0]["threat_rate"] == pytest.approx(threats[0] / minute[0])
    assert (await offline.get("/threats", params={**told.params, "model_name": "other"})).json()["models"] == []


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/security", {"period": "h"}),
        ("/threats", {"period": "400d", "resolution": "minute"}),
        ("/compliance", {"start": "not a time"}),
    ],
)
async def test_bad_input_is_a_422_envelope(offline: httpx.AsyncClient, path: str, params: dict[str, str]) -> None:
    response = await offline.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"] is True
