"""The monitoring page through HTTP: what a viewer, an operator and an admin get, its parts, the analytics service
down, and the drift chart, alerts, performance and retrain queue it shows when analytics answers (answers built
from the service's own schemas, so the templates and charts read the real shapes).

A unit test of the page's loaders and templates: where it needs a service to answer, the SDK's method is
replaced by a double built from that service's own schemas (the real platform's answers are the browser
tests' part, tests/browser/)."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mlsec.client import ServiceCallError
from mlsec.client.main import MainAPIClient
from mlsec.core.auth import Role
from mlsec.services.analytics.schemas.configs import MonitoringConfigRead
from mlsec.services.analytics.schemas.drift import DriftAlertList, DriftRunList, DriftRunRead
from mlsec.services.analytics.schemas.performance import ModelPerformance
from mlsec.services.analytics.schemas.retrain import AutoRetrainConfigList, RetrainQueue
from tests.api.gateway.security_support import Gateway, sign_in_as

pytestmark = pytest.mark.anyio
MODEL = "security-classifier"
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def chart(page: str, element_id: str) -> dict[str, Any]:
    """The chart spec of `#element_id` as the browser reads it."""
    match = re.search(rf'id="{element_id}"[^>]*data-chart="([^"]*)"', page)
    assert match, f"no chart #{element_id}"
    spec: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return spec


def _run(run_id: int, minutes_ago: int, drifted: list[str], severity: str) -> dict[str, Any]:
    return {
        "id": run_id,
        "created_at": NOW - timedelta(minutes=minutes_ago),
        "source": "live",
        "model_name": MODEL,
        "model_version": "2",
        "window_start": None,
        "window_end": None,
        "reference_rows": 1000,
        "current_rows": 80,
        "drift_detected": bool(drifted),
        "model_drift": "score" in drifted,
        "severity": severity,
        "drifted_features": drifted,
    }


RUNS = [_run(2, 0, ["length", "score"], "high"), _run(1, 60, [], "none")]
ALERT = {
    "id": 7,
    "created_at": NOW,
    "model_name": MODEL,
    "model_version": "2",
    "kind": "data_drift",
    "severity": "high",
    "message": "security-classifier drifted on 2 of 3 features",
    "drift_run_id": 2,
    "features": ["length", "score"],
    "status": "open",
    "acknowledged_at": None,
    "acknowledged_by": None,
    "note": None,
    "notifications": {"event": "sent"},
}


def _metrics(count: int, accuracy: float | None) -> dict[str, Any]:
    return {
        "count": count,
        "accuracy": accuracy,
        "precision": accuracy,
        "recall": accuracy,
        "f1": accuracy,
        "roc_auc": None,
        "roc_auc_reason": "no scores",
        "scored": 0,
        "confusion": None,
    }


def _bucket(hours_ago: int, count: int, accuracy: float | None) -> dict[str, Any]:
    start = NOW - timedelta(hours=hours_ago)
    return {**_metrics(count, accuracy), "start": start, "end": start + timedelta(hours=6)}


PERFORMANCE = {
    "average": "binary",
    "positive_label": "1",
    "labels": ["0", "1"],
    "model_name": MODEL,
    "window_hours": 168.0,
    "window_start": NOW - timedelta(days=7),
    "window_end": NOW,
    "buckets": 2,
    "bucket_seconds": 6 * 3600.0,
    "time_basis": "predicted_at",
    "count": 30,
    "latest_version": "2",
    "versions": [
        {
            "model_version": "2",
            "last_feedback_at": NOW,
            "metrics": _metrics(30, 0.9),
            "series": [_bucket(12, 0, None), _bucket(6, 30, 0.9)],
        }
    ],
}


def _answering(gateway: Gateway, monkeypatch: pytest.MonkeyPatch, *, feedback: bool = True) -> None:
    """Analytics (and the registry) answer the page's calls."""
    sdk: MainAPIClient = gateway.app.state.sdk

    async def models(**_: Any) -> dict[str, Any]:
        return {"models": [{"name": "other-model"}, {"name": MODEL}], "count": 2, "refreshed_at": None}

    async def history(**params: Any) -> dict[str, Any]:
        runs = RUNS if params.get("model_name") == MODEL else []
        return DriftRunList.model_validate({"runs": runs, "total": len(runs), "limit": 50, "offset": 0}).model_dump(
            mode="json"
        )

    async def drift_run(run_id: int) -> dict[str, Any]:
        feature = {"feature": "length", "kind": "numeric", "drift_detected": True, "severity": "high"}
        tests = [{"test": "ks", "statistic": 0.4, "p_value_adjusted": 0.001, "drift_detected": True}]
        report = {"features": [{**feature, "tests": tests}]}
        read = DriftRunRead.model_validate({**RUNS[0], "method": "ks on numeric features", "report": report})
        return read.model_dump(mode="json")

    async def alerts(**_: Any) -> dict[str, Any]:
        listed = {"alerts": [ALERT], "total": 1, "open": 1, "limit": 50, "offset": 0}
        return DriftAlertList.model_validate(listed).model_dump(mode="json")

    async def performance(model_name: str, **_: Any) -> dict[str, Any]:
        if not feedback:
            raise ServiceCallError("analytics", "no feedback", status_code=404)
        return ModelPerformance.model_validate(PERFORMANCE).model_dump(mode="json")

    async def queue() -> dict[str, Any]:
        request = {
            "id": 3,
            "created_at": NOW,
            "model_name": MODEL,
            "trigger": "data_drift",
            "priority": 1,
            "status": "queued",
            "reason": "drift alert 7",
            "drift_run_id": 2,
            "alert_id": 7,
            "job_id": None,
            "started_at": None,
            "finished_at": None,
            "detail": {},
        }
        return RetrainQueue.model_validate({"requests": [request], "running": 0, "queued": 1}).model_dump(mode="json")

    async def config(*, model_name: str | None = None) -> dict[str, Any]:
        read = MonitoringConfigRead(model_name=model_name or "*", stored=False)
        return AutoRetrainConfigList(defaults=read, models=[read]).model_dump(mode="json")

    monkeypatch.setattr(sdk.training, "get_models", models)
    monkeypatch.setattr(sdk.analytics, "get_drift_history", history)
    monkeypatch.setattr(sdk.analytics, "get_drift_run", drift_run)
    monkeypatch.setattr(sdk.analytics, "get_drift_alerts", alerts)
    monkeypatch.setattr(sdk.analytics, "get_model_performance", performance)
    monkeypatch.setattr(sdk.analytics, "get_retrain_queue", queue)
    monkeypatch.setattr(sdk.analytics, "get_auto_retrain_config", config)


async def test_a_viewer_sees_the_page_without_any_write_control(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    page = await gateway.http.get("/ui/monitoring")
    assert page.status_code == 200
    assert 'main id="content" data-page="monitoring"' in page.text and "<title>Monitoring" in page.text
    assert "/static/pages/monitoring.js" in page.text
    assert 'id="drift-model"' in page.text and 'id="alerts"' in page.text and 'id="retrain-queue"' in page.text
    assert "write-control" not in page.text and "admin-control" not in page.text


async def test_an_operator_may_check_and_acknowledge_an_admin_may_also_edit_settings(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.OPERATOR)
    _answering(gateway, monkeypatch)
    page = (await gateway.http.get("/ui/monitoring")).text
    assert '<button id="drift-check" class="write-control" type="button">' in page
    assert 'class="secondary ack-alert write-control" data-alert-id="7"' in page
    assert "admin-control" not in page
    await sign_in_as(gateway, Role.ADMIN)
    admin = (await gateway.http.get("/ui/monitoring")).text
    assert '<form id="retrain-config-form" class="admin-control"' in admin
    assert 'id="retrain-config-save" class="write-control admin-control"' in admin


async def test_with_analytics_down_every_part_says_so(gateway: Gateway) -> None:
    await sign_in_as(gateway, Role.ADMIN)
    page = await gateway.http.get("/ui/monitoring")
    assert page.status_code == 200
    assert 'id="drift-chart"' in page.text and 'id="performance-chart"' in page.text
    assert f'<option value="{MODEL}" selected>' in page.text  # the default model, though the registry is down
    for part in ("drift", "alerts", "performance", "retrain", "settings"):
        answer = await gateway.http.get(f"/ui/monitoring/partials/{part}")
        assert answer.status_code == 200, part
        assert re.search(r"unavailable: analytics: (unreachable|circuit open)", answer.text), part


async def test_the_drift_chart_has_one_point_per_check_oldest_first(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    page = (await gateway.http.get("/ui/monitoring")).text
    assert '<option value="other-model">' in page
    spec = chart(page, "drift-chart")
    assert spec["x"] == [(NOW - timedelta(minutes=60)).timestamp(), NOW.timestamp()]
    assert [s["label"] for s in spec["series"]] == ["drifted features", "severity (0-3)", "score drift (0/1)"]
    assert [s["values"] for s in spec["series"]] == [[0, 2], [0, 3], [0, 1]]
    assert '<tr data-feature="length">' in page and "ks: 0.4000, p 0.0010 (drift)" in page
    other = await gateway.http.get("/ui/monitoring/partials/drift", params={"model": "other-model"})
    assert other.status_code == 200 and chart(other.text, "drift-chart")["x"] == []
    assert "No drift check of other-model yet." in other.text
    bad = await gateway.http.get("/ui/monitoring/partials/drift", params={"model": "../x"})
    assert bad.status_code == 200 and f'data-model="{MODEL}"' in bad.text  # not a model name: the default


async def test_alerts_performance_queue_and_settings(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    await sign_in_as(gateway, Role.OPERATOR)
    _answering(gateway, monkeypatch)
    alerts = (await gateway.http.get("/ui/monitoring/partials/alerts")).text
    assert '<tr data-alert-id="7" data-status="open">' in alerts and "drifted on 2 of 3 features" in alerts
    performance = (await gateway.http.get("/ui/monitoring/partials/performance")).text
    spec = chart(performance, "performance-chart")
    assert [s["label"] for s in spec["series"]] == ["v2 accuracy", "v2 F1"]
    assert spec["series"][0]["values"] == [None, 0.9] and len(spec["x"]) == 2
    assert '<tr data-version="2">' in performance
    queue = (await gateway.http.get("/ui/monitoring/partials/retrain")).text
    assert '<tr data-request-id="3">' in queue and "0 running, 1 queued" in queue
    settings = (await gateway.http.get("/ui/monitoring/partials/settings")).text
    assert "the defaults (nothing stored for it)" in settings and 'id="retrain-settings"' in settings


async def test_a_model_without_feedback_says_so_rather_than_unavailable(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch, feedback=False)
    performance = (await gateway.http.get("/ui/monitoring/partials/performance")).text
    assert "No labelled feedback for security-classifier in the last 7 days." in performance
    assert "unavailable" not in performance and chart(performance, "performance-chart")["series"] == []


def test_the_feature_chart_follows_each_feature_check_by_check() -> None:
    from mlsec.services.gateway.service.dashboard.monitoring import feature_chart

    def run(at: str, **statistics: float) -> dict[str, Any]:
        features = [
            {"feature": name, "tests": [{"test": "ks", "statistic": value}]} for name, value in statistics.items()
        ]
        return {"created_at": at, "report": {"features": features}}

    chart = feature_chart([run("2026-12-05T10:05:00Z", length=0.4), run("2026-12-05T10:00:00Z", length=0.1, score=0.2)])
    assert chart["x"] == sorted(chart["x"]) and len(chart["x"]) == 2  # oldest first
    assert chart["series"] == [
        {"label": "length", "values": [0.1, 0.4]},
        {"label": "score", "values": [0.2, None]},  # not compared in the later check: a gap, not a zero
    ]
    assert feature_chart([{"created_at": "not a time"}])["series"] == []
