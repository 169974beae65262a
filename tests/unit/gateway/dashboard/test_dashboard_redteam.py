"""The red-team page through HTTP: what a viewer and an operator get, its parts, analytics down, and the technique
chart, the trend and the runs it shows when analytics answers (answers built from the service's own schemas).

A unit test of the page's loaders and templates: where it needs a service to answer, the SDK's method is
replaced by a double built from that service's own schemas (the real platform's answers are the browser
tests' part, tests/browser/)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mlsec.client.main import MainAPIClient
from mlsec.core.auth import Role
from mlsec.services.analytics.schemas.redteam import RedTeamRunList, RedTeamSummary, RedTeamTrends
from tests.api.gateway.security_support import Gateway, sign_in_as
from tests.unit.gateway.dashboard.test_dashboard_monitoring import chart

pytestmark = pytest.mark.anyio
MODEL = "security-classifier"
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
TECHNIQUES = [
    {"technique": "plain", "attempts": 10, "detected": 10, "detection_rate": 1.0, "evaded_total": 0},
    {"technique": "leetspeak", "attempts": 10, "detected": 6, "detection_rate": 0.6, "evaded_total": 4},
]
RUN = {
    "id": 5,
    "model_name": MODEL,
    "model_version": "2",
    "source": "run",
    "created_at": NOW,
    "attempts": 20,
    "detected": 16,
    "detection_rate": 0.8,
    "baseline_detection_rate": 1.0,
    "techniques": TECHNIQUES,
}


def _answering(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    sdk: MainAPIClient = gateway.app.state.sdk

    async def models(**_: Any) -> dict[str, Any]:
        return {"models": [{"name": MODEL}], "count": 1, "refreshed_at": None}

    async def summary(*, model_name: str | None = None) -> dict[str, Any]:
        found = [{**RUN, "weakest_technique": TECHNIQUES[1]}] if model_name == MODEL else []
        return RedTeamSummary.model_validate({"models": found, "count": len(found)}).model_dump(mode="json")

    async def trends(*, model_name: str | None = None) -> dict[str, Any]:
        older = {
            **{k: RUN[k] for k in ("model_version", "source", "attempts")},
            "run_id": 4,
            "created_at": NOW - timedelta(days=1),
            "detection_rate": 0.7,
            "change": None,
            "techniques": [{"technique": "plain", "detection_rate": 1.0, "change": None}],
        }
        newer = {
            **older,
            "run_id": 5,
            "created_at": NOW,
            "detection_rate": 0.8,
            "change": 0.1,
            "techniques": [
                {"technique": "plain", "detection_rate": 1.0, "change": 0.0},
                {"technique": "leetspeak", "detection_rate": 0.6, "change": None},
            ],
        }
        found = (
            [{"model_name": MODEL, "runs": [older, newer], "change_since_first": 0.1}] if model_name == MODEL else []
        )
        return RedTeamTrends.model_validate({"models": found, "count": len(found)}).model_dump(mode="json")

    async def runs(**_: Any) -> dict[str, Any]:
        return RedTeamRunList.model_validate({"runs": [RUN], "total": 1, "limit": 10, "offset": 0}).model_dump(
            mode="json"
        )

    monkeypatch.setattr(sdk.training, "get_models", models)
    monkeypatch.setattr(sdk.analytics, "get_red_team_summary", summary)
    monkeypatch.setattr(sdk.analytics, "get_red_team_trends", trends)
    monkeypatch.setattr(sdk.analytics, "get_red_team_runs", runs)


async def test_a_viewer_sees_the_page_without_any_write_control(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    page = await gateway.http.get("/ui/redteam")
    assert page.status_code == 200
    assert 'main id="content" data-page="redteam"' in page.text and "<title>Red team" in page.text
    assert 'data-topics="redteam,alerts"' in page.text and "/static/pages/redteam.js" in page.text
    assert 'id="redteam-chart"' in page.text and 'id="redteam-trend"' in page.text
    assert "write-control" not in page.text and "admin-control" not in page.text


async def test_an_operator_may_run_the_suite(gateway: Gateway) -> None:
    await sign_in_as(gateway, Role.OPERATOR)
    page = (await gateway.http.get("/ui/redteam")).text
    assert '<button id="redteam-run" class="write-control" type="button">' in page
    assert 'id="redteam-status"' in page and 'aria-live="polite"' in page


async def test_with_analytics_down_every_part_says_so(gateway: Gateway) -> None:
    await sign_in_as(gateway, Role.ADMIN)
    page = await gateway.http.get("/ui/redteam")
    assert page.status_code == 200 and "unavailable" in page.text
    for part in ("summary", "trend", "runs"):
        answer = await gateway.http.get(f"/ui/redteam/partials/{part}")
        assert answer.status_code == 200, part
        assert re.search(r"unavailable: analytics: (unreachable|circuit open)", answer.text), part


async def test_the_technique_chart_is_categorical_with_the_names_beside_it(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    page = (await gateway.http.get("/ui/redteam")).text
    spec = chart(page, "redteam-chart")
    assert spec["x"] == [0, 1] and spec["time"] is False
    assert spec["series"] == [{"label": "detection rate", "values": [1.0, 0.6]}]
    assert '<tr data-technique="leetspeak">' in page and "weakest: leetspeak" in page
    assert '<tr data-run-id="5">' in page and "80.0%" in page
    other = (await gateway.http.get("/ui/redteam/partials/summary", params={"model": "other"})).text
    assert chart(other, "redteam-chart")["x"] == [] and "No red-team run of other yet." in other


async def test_the_trend_has_the_overall_rate_and_each_technique(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    trend = (await gateway.http.get("/ui/redteam/partials/trend")).text
    spec = chart(trend, "redteam-trend")
    assert spec["x"] == [(NOW - timedelta(days=1)).timestamp(), NOW.timestamp()]
    assert spec["series"] == [
        {"label": "overall", "values": [0.7, 0.8]},
        {"label": "leetspeak", "values": [None, 0.6]},
        {"label": "plain", "values": [1.0, 1.0]},
    ]
    assert "+10.0 points" in trend
