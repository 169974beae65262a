"""`GET /`, `/analytics/summary` and `/analytics/trends`.

Drift runs, alerts, red-team runs, retrain requests and promotions are written by other parts of the service; these
tests put such rows straight into the service's database (the summary only reads them) and check what the API
answers over HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sklearn.metrics import accuracy_score, f1_score

from mlsec.core.database import Database
from mlsec.core.settings import Settings
from mlsec.services.analytics.app import create_app
from mlsec.services.analytics.models import Base, DriftAlert, DriftRun, PromotionRecord, RedTeamRun, RetrainRequest
from tests.api.analytics.conftest import analytics_settings
from tests.conftest import started_client

pytestmark = pytest.mark.anyio


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


async def insert(settings: Settings, *rows: Base) -> None:
    """Rows written the way the drift, red-team, retrain and promotion code writes them."""
    db = Database(settings.database_url_for("analytics"))
    try:
        async with db.session() as session:
            session.add_all(rows)
    finally:
        await db.dispose()


def drift_run(model_name: str | None, drifted: bool, created_at: datetime | None = None) -> DriftRun:
    return DriftRun(
        created_at=created_at or datetime.now(UTC),
        source="request",
        model_name=model_name,
        model_version="1" if model_name else None,
        reference_rows=100,
        current_rows=100,
        drift_detected=drifted,
        severity="high" if drifted else "none",
        drifted_features=["length"] if drifted else [],
        method="ks",
        report={},
    )


def alert(severity: str, status: str = "open", created_at: datetime | None = None) -> DriftAlert:
    return DriftAlert(
        created_at=created_at or datetime.now(UTC),
        model_name="guard",
        kind="data_drift",
        severity=severity,
        message="drift",
        features=[],
        status=status,
        notifications={},
    )


def red_team(model_name: str, version: str, rate: float, created_at: datetime) -> RedTeamRun:
    return RedTeamRun(
        created_at=created_at,
        model_name=model_name,
        model_version=version,
        source="upload",
        attempts=100,
        detected=round(rate * 100),
        detection_rate=rate,
        report={},
    )


def retrain(status: str) -> RetrainRequest:
    return RetrainRequest(model_name="guard", trigger="manual", priority=0, status=status, reason="test", detail={})


def promotion(action: str, challenger: str) -> PromotionRecord:
    return PromotionRecord(
        model_name="guard",
        action=action,
        champion_before="1",
        champion_after=challenger if action == "promoted" else "1",
        challenger_version=challenger,
        actor="auto-retrain",
        summary=f"{action} v{challenger}",
        evidence={},
    )


def feedback(model_name: str, true: str, predicted: str, when: datetime | None = None) -> dict[str, Any]:
    values = {"model_name": model_name, "model_version": "1", "true_label": true, "prediction": predicted}
    return values | ({"predicted_at": when.isoformat()} if when else {})


async def send(client: httpx.AsyncClient, items: list[dict[str, Any]]) -> None:
    response = await client.post("/feedback", json={"items": items})
    assert response.status_code == 201, response.text


# --- GET / -------------------------------------------------------------------------------------------------------


async def test_info_on_an_empty_service(analytics: httpx.AsyncClient) -> None:
    body = (await analytics.get("/")).json()
    assert body["service"] == "analytics"
    assert body["monitored_models"] == [] and body["scheduled_models"] == []
    assert (body["monitor_enabled"], body["monitor_interval_seconds"], body["email_alerts"]) == (False, 0, False)
    groups = {group["name"]: group["paths"] for group in body["endpoints"]}
    assert set(groups) == {"analytics", "performance", "drift", "red-team", "auto-retrain", "promotion"}
    assert "/feedback" in groups["performance"]


async def test_info_names_models_with_feedback_or_drift_runs(settings: Settings) -> None:
    own = analytics_settings(smtp_host="localhost", alert_email_to=["ops@example.com"], monitor_models=["guard"])
    async for client in started_client(create_app(settings, own)):
        await send(client, [feedback("guard", "1", "1")])
        await insert(settings, drift_run("drifty", True), drift_run(None, False))
        body = (await client.get("/")).json()
        assert body["monitored_models"] == ["drifty", "guard"]
        assert body["scheduled_models"] == ["guard"]
        assert body["email_alerts"] is True


# --- GET /analytics/summary ---------------------------------------------------------------------------------------


async def test_summary_of_an_empty_database(analytics: httpx.AsyncClient) -> None:
    response = await analytics.get("/analytics/summary")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["feedback"] == {"models": 0, "count": 0, "last_at": None}
    assert body["drift"] == {"runs": 0, "drifted": 0, "last": None}
    assert body["alerts"] == {"total": 0, "open": 0, "open_by_severity": {"low": 0, "medium": 0, "high": 0}}
    assert body["red_team"] == {"runs": 0, "latest": []}
    assert body["retrain"]["requests"] == 0 and set(body["retrain"]["by_status"].values()) == {0}
    assert body["promotion"] == {"promoted": 0, "rejected": 0, "observed": 0, "last": None}


async def test_summary_of_a_filled_database(analytics: httpx.AsyncClient, settings: Settings) -> None:
    await send(analytics, [feedback("guard", "1", "1"), feedback("guard", "0", "1"), feedback("other", "0", "0")])
    await insert(
        settings,
        drift_run("guard", True, ago(hours=3)),
        drift_run("guard", False, ago(hours=2)),
        drift_run("other", True, ago(hours=1)),
        alert("high"),
        alert("low"),
        alert("high"),
        alert("medium", status="acknowledged"),
        red_team("guard", "1", 0.7, ago(days=2)),
        red_team("guard", "2", 0.9, ago(days=1)),
        red_team("other", "4", 0.5, ago(days=3)),
        retrain("queued"),
        retrain("succeeded"),
        retrain("succeeded"),
        retrain("failed"),
        promotion("promoted", "2"),
        promotion("rejected", "3"),
        promotion("promoted", "4"),
    )
    body = (await analytics.get("/analytics/summary")).json()
    assert (body["feedback"]["models"], body["feedback"]["count"]) == (2, 3)
    assert body["feedback"]["last_at"] is not None
    drift = body["drift"]
    assert (drift["runs"], drift["drifted"]) == (3, 2)
    assert (drift["last"]["model_name"], drift["last"]["drift_detected"]) == ("other", True)
    assert body["alerts"] == {"total": 4, "open": 3, "open_by_severity": {"low": 1, "medium": 0, "high": 2}}
    latest = [(r["model_name"], r["model_version"], r["detection_rate"]) for r in body["red_team"]["latest"]]
    assert body["red_team"]["runs"] == 3
    assert latest == [("guard", "2", 0.9), ("other", "4", 0.5)]
    assert body["retrain"] == {
        "requests": 4,
        "by_status": {"queued": 1, "running": 0, "succeeded": 2, "failed": 1, "skipped": 0},
    }
    promotions = body["promotion"]
    assert (promotions["promoted"], promotions["rejected"], promotions["observed"]) == (2, 1, 0)
    assert (promotions["last"]["challenger_version"], promotions["last"]["action"]) == ("4", "promoted")


# --- GET /analytics/trends ----------------------------------------------------------------------------------------


def bucket_of(buckets: list[dict[str, Any]], when: datetime) -> int:
    """The index of the answer's bucket that holds `when`."""
    for index, bucket in enumerate(buckets):
        if datetime.fromisoformat(bucket["start"]) <= when < datetime.fromisoformat(bucket["end"]):
            return index
    raise AssertionError(f"{when} is in no bucket")


async def test_daily_trends(analytics: httpx.AsyncClient, settings: Settings) -> None:
    two_days_ago = ago(days=2)
    guard = [("1", "1"), ("1", "0"), ("0", "0"), ("0", "1"), ("1", "1")]
    other = [("1", "1"), ("0", "0"), ("0", "1")]
    await send(
        analytics,
        [feedback("guard", t, p, two_days_ago) for t, p in guard]
        + [feedback("other", t, p, two_days_ago) for t, p in other]
        + [feedback("guard", "1", "1")]  # no predicted_at: placed at created_at, today
        + [feedback("guard", "1", "1", ago(days=30))],  # outside the range
    )
    await insert(
        settings,
        drift_run("guard", True, two_days_ago),
        drift_run("guard", False, two_days_ago),
        drift_run("other", True, ago(days=1)),
        drift_run("guard", True, ago(days=10)),
        alert("high", created_at=two_days_ago),
        red_team("guard", "1", 0.8, two_days_ago),
        red_team("guard", "2", 0.6, two_days_ago),
    )
    response = await analytics.get("/analytics/trends", params={"days": 7, "bucket": "day"})
    assert response.status_code == 200, response.text
    buckets = response.json()["buckets"]
    assert len(buckets) == 7
    assert all(datetime.fromisoformat(b["start"]).hour == 0 for b in buckets)
    busy = buckets[bucket_of(buckets, two_days_ago)]
    assert busy["feedback"] == 8
    assert busy["accuracy"] == pytest.approx(accuracy_score(*zip(*guard + other, strict=True)))
    f1_guard = f1_score(*zip(*guard, strict=True), pos_label="1")
    f1_other = f1_score(*zip(*other, strict=True), pos_label="1")
    assert busy["f1"] == pytest.approx((5 * f1_guard + 3 * f1_other) / 8)
    assert (busy["drift_runs"], busy["drifted_runs"], busy["alerts"]) == (2, 1, 1)
    assert (busy["red_team_runs"], busy["detection_rate"]) == (2, pytest.approx(0.7))
    today = buckets[-1]
    assert (today["feedback"], today["accuracy"]) == (1, 1.0)
    assert buckets[bucket_of(buckets, ago(days=1))]["drift_runs"] == 1
    quiet = [b for i, b in enumerate(buckets) if i not in {bucket_of(buckets, t) for t in (two_days_ago, ago(days=1))}]
    quiet = [b for b in quiet if b is not today]
    assert quiet and all(
        (b["feedback"], b["accuracy"], b["f1"], b["drift_runs"], b["alerts"], b["red_team_runs"], b["detection_rate"])
        == (0, None, None, 0, 0, 0, None)
        for b in quiet
    )

    only_other = (await analytics.get("/analytics/trends", params={"model_name": "other"})).json()
    assert only_other["model_name"] == "other"
    busy = only_other["buckets"][bucket_of(only_other["buckets"], two_days_ago)]
    assert (busy["feedback"], busy["f1"], busy["drift_runs"], busy["red_team_runs"]) == (
        3,
        pytest.approx(f1_other),
        0,
        0,
    )


async def test_hourly_trends(analytics: httpx.AsyncClient) -> None:
    three_hours_ago = ago(hours=3)
    await send(analytics, [feedback("guard", "1", "0", three_hours_ago), feedback("guard", "1", "1", three_hours_ago)])
    body = (await analytics.get("/analytics/trends", params={"days": 2, "bucket": "hour"})).json()
    assert body["bucket"] == "hour" and len(body["buckets"]) == 48
    counts = [b["feedback"] for b in body["buckets"]]
    assert counts[bucket_of(body["buckets"], three_hours_ago)] == 2 and sum(counts) == 2


async def test_trends_of_an_empty_database(analytics: httpx.AsyncClient) -> None:
    body = (await analytics.get("/analytics/trends")).json()
    assert (body["days"], body["bucket"], len(body["buckets"])) == (7, "day", 7)
    assert {b["feedback"] + b["drift_runs"] + b["alerts"] + b["red_team_runs"] for b in body["buckets"]} == {0}


@pytest.mark.parametrize(
    "params",
    [{"days": 0}, {"days": 366}, {"bucket": "week"}, {"model_name": "bad name"}, {"model_name": "x" * 101}],
)
async def test_invalid_trend_queries_are_422(analytics: httpx.AsyncClient, params: dict[str, Any]) -> None:
    response = await analytics.get("/analytics/trends", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"] is True
