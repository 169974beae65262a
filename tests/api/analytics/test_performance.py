"""`/feedback`, `/model-performance/{model}` and `/performance/metrics` (the export: test_export.py)."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from mlsec.core.events import Event
from mlsec.core.settings import Settings
from mlsec.services.analytics.app import create_app
from tests.api.analytics.conftest import analytics_settings
from tests.api.analytics.feedback_support import at, item, send
from tests.conftest import started_client

pytestmark = pytest.mark.anyio


def binary_sample(seed: int, size: int, version: str, hours_ago: float) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    true = rng.integers(0, 2, size)
    scores = np.clip(true * 0.4 + rng.random(size) * 0.6, 0, 1).round(3)
    predicted = (scores >= 0.5).astype(int)
    return [
        item(model_version=version, prediction=str(p), true_label=str(t), score=float(s), predicted_at=at(hours_ago))
        for t, p, s in zip(true, predicted, scores, strict=True)
    ]


def expected_binary(items: list[dict[str, Any]]) -> dict[str, float]:
    true = [i["true_label"] for i in items]
    predicted = [i["prediction"] for i in items]
    return {
        "accuracy": accuracy_score(true, predicted),
        "precision": precision_score(true, predicted, pos_label="1", zero_division=0),
        "recall": recall_score(true, predicted, pos_label="1", zero_division=0),
        "f1": f1_score(true, predicted, pos_label="1", zero_division=0),
        "roc_auc": roc_auc_score([t == "1" for t in true], [i["score"] for i in items]),
    }


def assert_metrics(metrics: dict[str, Any], expected: dict[str, float], count: int) -> None:
    assert metrics["count"] == count
    for name, value in expected.items():
        assert metrics[name] == pytest.approx(value), name


# --- POST /feedback --------------------------------------------------------------------------------------------


async def test_feedback_is_stored_and_announced(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    published: list[Event] = []

    def publish(event: Event) -> bool:
        published.append(event)
        return True

    app = create_app(settings, analytics_settings())
    async for client in started_client(app):
        monkeypatch.setattr(app.state.ctx.events, "publish", publish)
        items = [item(), item(model_version="2", true_label=0), item(model_name="other", text="hello", score=0.2)]
        body = await send(client, items)
    assert body == {
        "stored": 3,
        "models": [
            {"model_name": "guard", "versions": ["1", "2"], "count": 2},
            {"model_name": "other", "versions": ["1"], "count": 1},
        ],
    }
    events = sorted((e.topic, e.type, e.payload["model_name"], e.payload["count"]) for e in published)
    assert events == [("metrics", "feedback.recorded", "guard", 2), ("metrics", "feedback.recorded", "other", 1)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("model_name", ""),
        ("model_name", "x" * 101),
        ("model_name", "-leading-dash"),
        ("model_name", "has space"),
        ("model_version", ""),
        ("model_version", "1" * 33),
        ("prediction", ""),
        ("prediction", "p" * 101),
        ("prediction", 1.0),
        ("true_label", ""),
        ("true_label", "t" * 101),
        ("true_label", None),
        ("score", -0.01),
        ("score", 1.01),
        ("text", "x" * 100_001),
        ("predicted_at", "2999-01-01T00:00:00Z"),
        ("predicted_at", "yesterday"),
        ("unknown", "field"),
    ],
)
async def test_invalid_feedback_fields_are_422(analytics: httpx.AsyncClient, field: str, value: Any) -> None:
    response = await analytics.post("/feedback", json={"items": [item(), item(**{field: value})]})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] is True
    assert any(e["location"][:3] == ["body", "items", "1"] for e in body["details"]["errors"])
    assert (await analytics.get("/performance/metrics")).json()["count"] == 0


@pytest.mark.parametrize(
    "body",
    [{"items": []}, {"items": [item()] * 10_001}, {}, {"items": [item()], "extra": 1}],
    ids=["empty", "too-many", "missing", "extra-field"],
)
async def test_invalid_feedback_batches_are_422(analytics: httpx.AsyncClient, body: dict[str, Any]) -> None:
    assert (await analytics.post("/feedback", json=body)).status_code == 422


async def test_blank_text_is_not_kept(analytics: httpx.AsyncClient) -> None:
    await send(analytics, [item(text="   "), item(text="kept")])
    exported = await analytics.get("/export/production-data/guard", params={"format": "jsonl", "part": "all"})
    assert [json.loads(line)["text"] for line in exported.text.splitlines()] == ["kept"]


# --- GET /model-performance/{model} ------------------------------------------------------------------------------


async def test_model_performance_per_version_equals_sklearn(analytics: httpx.AsyncClient) -> None:
    old = binary_sample(1, 120, "1", hours_ago=5)
    new = binary_sample(2, 80, "2", hours_ago=1)
    await send(analytics, old + new)

    response = await analytics.get("/model-performance/guard", params={"window_hours": 24, "buckets": 24})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["average"], body["positive_label"], body["labels"]) == ("binary", "1", ["0", "1"])
    assert body["count"] == 200 and body["latest_version"] == "2"
    assert [v["model_version"] for v in body["versions"]] == ["2", "1"]
    by_version = {v["model_version"]: v for v in body["versions"]}
    assert_metrics(by_version["1"]["metrics"], expected_binary(old), 120)
    assert_metrics(by_version["2"]["metrics"], expected_binary(new), 80)
    confusion = by_version["1"]["metrics"]["confusion"]
    assert sum(map(sum, confusion["matrix"])) == 120
    assert confusion["true_positive"] == sum(i["true_label"] == i["prediction"] == "1" for i in old)

    only = (await analytics.get("/model-performance/guard", params={"version": "1"})).json()
    assert [v["model_version"] for v in only["versions"]] == ["1"] and only["count"] == 120


async def test_feedback_on_traffic_that_is_not_production_is_no_measure_of_performance(
    analytics: httpx.AsyncClient,
) -> None:
    production = binary_sample(3, 60, "1", hours_ago=1)
    wrong = [item(prediction="0", true_label="1", traffic_class="redteam", predicted_at=at(1)) for _ in range(90)]
    graded = [item(traffic_class="evaluation", predicted_at=at(1)) for _ in range(5)]
    await send(analytics, production + wrong + [{**g, "model_version": "3"} for g in graded])
    body = (await analytics.get("/model-performance/guard", params={"window_hours": 24})).json()
    assert body["count"] == 60 and [v["model_version"] for v in body["versions"]] == ["1"]
    assert_metrics(body["versions"][0]["metrics"], expected_binary(production), 60)
    refused = await analytics.post("/feedback", json={"items": [item(traffic_class="shadow")]})
    assert refused.status_code == 422


async def test_multiclass_model_uses_macro_averages(analytics: httpx.AsyncClient) -> None:
    rng = np.random.default_rng(3)
    true = rng.choice(["benign", "jailbreak", "injection"], 90).tolist()
    predicted = rng.choice(["benign", "jailbreak", "injection"], 90).tolist()
    await send(analytics, [item(true_label=t, prediction=p, score=0.7) for t, p in zip(true, predicted, strict=True)])

    body = (await analytics.get("/model-performance/guard", params={"buckets": 1})).json()
    assert (body["average"], body["positive_label"]) == ("macro", None)
    metrics = body["versions"][0]["metrics"]
    assert metrics["accuracy"] == pytest.approx(accuracy_score(true, predicted))
    assert metrics["precision"] == pytest.approx(precision_score(true, predicted, average="macro"))
    assert metrics["recall"] == pytest.approx(recall_score(true, predicted, average="macro"))
    assert metrics["f1"] == pytest.approx(f1_score(true, predicted, average="macro"))
    assert metrics["roc_auc"] is None and "multi-class" in metrics["roc_auc_reason"]


async def test_time_buckets_follow_predicted_at_else_created_at(analytics: httpx.AsyncClient) -> None:
    """Window 6 h in 6 buckets: feedback predicted 5.5 h ago lands in the first, none in the middle, and feedback
    without predicted_at (created now) in the last."""
    early = binary_sample(4, 40, "1", hours_ago=5.5)
    late = [item(prediction="0", true_label="1"), item(prediction="1", true_label="1", score=0.9)]
    await send(analytics, early + late)

    body = (await analytics.get("/model-performance/guard", params={"window_hours": 6, "buckets": 6})).json()
    assert body["bucket_seconds"] == 3600
    series = body["versions"][0]["series"]
    assert [b["count"] for b in series] == [40, 0, 0, 0, 0, 2]
    assert_metrics(series[0], expected_binary(early), 40)
    assert series[5]["accuracy"] == 0.5 and series[5]["scored"] == 1
    assert series[5]["roc_auc"] is None and series[5]["roc_auc_reason"] == "the scored feedback holds one class only"
    empty = series[2]
    assert (empty["accuracy"], empty["f1"], empty["confusion"]) == (None, None, None)
    assert empty["roc_auc_reason"] == "no feedback"
    starts = [datetime.fromisoformat(b["start"]) for b in series]
    assert all(later - earlier == timedelta(hours=1) for earlier, later in itertools.pairwise(starts))
    assert datetime.fromisoformat(series[-1]["end"]) == datetime.fromisoformat(body["window_end"])


async def test_empty_window_answers_zero_counts(analytics: httpx.AsyncClient) -> None:
    await send(analytics, binary_sample(5, 10, "3", hours_ago=24 * 10))
    response = await analytics.get("/model-performance/guard", params={"window_hours": 1, "buckets": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 0 and body["latest_version"] == "3"
    version = body["versions"][0]
    assert version["metrics"]["count"] == 0 and version["metrics"]["accuracy"] is None
    assert [b["count"] for b in version["series"]] == [0, 0, 0]


@pytest.mark.parametrize(
    ("path", "params", "fragment"),
    [
        ("/model-performance/unknown", {}, "no feedback recorded for model 'unknown'"),
        ("/model-performance/guard", {"version": "9"}, "version '9'"),
    ],
)
async def test_model_performance_404_without_feedback(
    analytics: httpx.AsyncClient, path: str, params: dict[str, str], fragment: str
) -> None:
    await send(analytics, [item()])
    response = await analytics.get(path, params=params)
    assert response.status_code == 404
    body = response.json()
    assert body["error"] is True and fragment in body["message"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/model-performance/guard", {"window_hours": 0}),
        ("/model-performance/guard", {"window_hours": -1}),
        ("/model-performance/guard", {"window_hours": 24 * 90 + 1}),
        ("/model-performance/guard", {"window_hours": "nan"}),
        ("/model-performance/guard", {"buckets": 0}),
        ("/model-performance/guard", {"buckets": 501}),
        ("/model-performance/guard", {"version": "bad version"}),
        ("/model-performance/guard", {"version": "9" * 33}),
        ("/model-performance/-bad", {}),
        ("/performance/metrics", {"window_hours": 0}),
        ("/performance/metrics", {"window_hours": 24 * 90 + 1}),
    ],
)
async def test_invalid_performance_queries_are_422(
    analytics: httpx.AsyncClient, path: str, params: dict[str, Any]
) -> None:
    response = await analytics.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"] is True


# --- GET /performance/metrics ------------------------------------------------------------------------------------


async def test_performance_metrics_of_every_model(analytics: httpx.AsyncClient) -> None:
    v1 = binary_sample(6, 50, "1", hours_ago=3)
    v2 = binary_sample(7, 60, "2", hours_ago=2)
    stale = [dict(i, model_name="stale") for i in binary_sample(8, 10, "1", hours_ago=24 * 30)]
    await send(analytics, v1 + v2 + stale)

    body = (await analytics.get("/performance/metrics", params={"window_hours": 12})).json()
    assert body["count"] == 2
    guard, old = body["models"]
    assert guard["model_name"] == "guard" and guard["latest_version"] == "2"
    assert_metrics(guard["latest"], expected_binary(v2), 60)
    assert [v["model_version"] for v in guard["versions"]] == ["2", "1"]
    assert_metrics(guard["versions"][1]["metrics"], expected_binary(v1), 50)
    assert old["model_name"] == "stale" and old["latest"]["count"] == 0 and old["latest"]["f1"] is None


async def test_performance_metrics_on_empty_database(analytics: httpx.AsyncClient) -> None:
    body = (await analytics.get("/performance/metrics")).json()
    assert (body["models"], body["count"], body["window_hours"]) == ([], 0, 24.0)
