"""Drift API: ad-hoc checks (JSON and files) equal the detector's, history, alerts, config; bad input."""

from __future__ import annotations

import io
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from scipy import stats

pytestmark = pytest.mark.anyio


def _samples(shift: float = 0.0, rows: int = 300, seed: int = 0) -> dict[str, list[Any]]:
    rng = np.random.default_rng(seed)
    return {
        "length": (rng.normal(100, 15, rows) + shift * 15).round(3).tolist(),
        "ratio": rng.uniform(0, 1, rows).round(4).tolist(),
        "channel": rng.choice(["web", "api", "batch"], rows, p=[0.5, 0.3, 0.2]).tolist(),
    }


async def _detect(analytics: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await analytics.post("/drift/detect", json=body)


async def test_a_small_reference_is_tested_with_ks_and_chi_square_equal_to_scipy(analytics: httpx.AsyncClient) -> None:
    reference, current = _samples(seed=1), _samples(shift=1.0, seed=2)
    response = await _detect(analytics, reference=reference, current=current, categorical=["channel"])
    assert response.status_code == 200, response.text
    run = response.json()
    features = {f["feature"]: f for f in run["report"]["features"]}
    ks = features["length"]["tests"][0]
    assert ks["test"] == "ks"
    expected = stats.ks_2samp(reference["length"], current["length"])
    assert ks["statistic"] == pytest.approx(expected.statistic, abs=1e-9)
    assert ks["p_value"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert features["channel"]["tests"][0]["test"] == "chi2"
    assert features["length"]["drift_detected"] is True
    assert features["ratio"]["drift_detected"] is False
    assert "length" in run["drifted_features"]
    assert "ks" in run["method"].lower() or "kolmogorov" in run["method"].lower()
    assert run["id"] is not None and run["source"] == "request"


async def test_same_data_is_no_drift_and_runs_are_kept_in_the_history(analytics: httpx.AsyncClient) -> None:
    same = _samples(seed=3)
    first = (await _detect(analytics, reference=same, current=same, categorical=["channel"], model_name="m1")).json()
    assert first["drift_detected"] is False and first["severity"] == "none"
    shifted = _samples(shift=2, seed=4)
    body = {"reference": same, "current": shifted, "categorical": ["channel"], "model_name": "m1"}
    one_of_three = (await _detect(analytics, **body)).json()
    assert one_of_three["drifted_features"] == ["length"]
    assert one_of_three["drift_detected"] is False  # 1 of 3 features is under the dataset rule's share of 0.5
    assert (await _detect(analytics, **body, drift_share=0.3)).json()["drift_detected"] is True
    await _detect(analytics, reference=same, current=same, categorical=["channel"], store=False)
    history = (await analytics.get("/drift/history", params={"model_name": "m1"})).json()
    assert history["total"] == 3
    assert [r["drift_detected"] for r in history["runs"]] == [True, False, False]  # newest first
    drifted = (await analytics.get("/drift/history", params={"drifted": True})).json()
    assert drifted["total"] == 1
    one = (await analytics.get(f"/drift/history/{first['id']}")).json()
    assert one["report"]["features"] and one["method"]
    analysis = (await analytics.get("/analytics/drift")).json()
    assert [m["model_name"] for m in analysis["models"]] == ["m1"]
    assert analysis["models"][0]["run"]["drift_detected"] is True


async def test_named_tests_and_thresholds_are_applied(analytics: httpx.AsyncClient) -> None:
    reference, current = _samples(seed=5), _samples(shift=0.3, seed=6)
    body = {"reference": reference, "current": current, "categorical": ["channel"], "tests": ["psi", "jensen_shannon"]}
    strict = (await _detect(analytics, **body, thresholds={"psi": 0.0001, "jensen_shannon": 0.0001})).json()
    lenient = (await _detect(analytics, **body, thresholds={"psi": 5, "jensen_shannon": 0.99})).json()
    assert strict["drift_detected"] is True
    assert lenient["drifted_features"] == []
    tests = {t["test"] for f in strict["report"]["features"] for t in f["tests"]}
    assert tests == {"psi", "jensen_shannon"}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"reference": {"a": [1, 2]}, "current": {"b": [1, 2]}}, "a"),
        ({"reference": {"a": [1, 2, 3]}, "current": {"a": [1, 2]}, "tests": ["nope"]}, "tests"),
        ({"reference": {"a": [1, 2, 3]}, "current": {"a": [1, 2]}, "tests": ["chi2"]}, "chi2"),
        ({"reference": {"a": [1, "x", 3]}, "current": {"a": [1, 2]}}, "a"),
        ({"reference": {"a": [None, None]}, "current": {"a": [1, 2]}}, "a"),
        ({"reference": {"a": [1, 2]}, "current": {"a": [1, 2]}, "alpha": 1.5}, "alpha"),
        ({"reference": {}, "current": {}}, "reference"),
        ({"reference": {"a": [1, 2]}, "current": {"a": [1, 2]}, "surprise": 1}, "surprise"),
    ],
)
async def test_bad_input_is_a_422_naming_the_problem(
    analytics: httpx.AsyncClient, body: dict[str, Any], fragment: str
) -> None:
    response = await analytics.post("/drift/detect", json=body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["error"] is True
    assert fragment in response.text


def _csv(columns: dict[str, list[Any]]) -> bytes:
    text: str = pd.DataFrame(columns).to_csv(index=False)
    return text.encode()


def _parquet(columns: dict[str, list[Any]]) -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame(columns).to_parquet(buffer)
    return buffer.getvalue()


async def test_files_give_the_same_answer_as_json(analytics: httpx.AsyncClient) -> None:
    reference, current = _samples(seed=7), _samples(shift=1, seed=8)
    as_json = (await _detect(analytics, reference=reference, current=current, categorical=["channel"])).json()
    response = await analytics.post(
        "/drift/detect/upload",
        files={"reference": ("ref.csv", _csv(reference)), "current": ("cur.parquet", _parquet(current))},
        data={"categorical": "channel"},
    )
    assert response.status_code == 200, response.text
    as_files = response.json()
    assert as_files["source"] == "upload"
    assert as_files["report"]["features"] == as_json["report"]["features"]


async def test_a_file_that_is_not_a_table_is_a_422(analytics: httpx.AsyncClient) -> None:
    response = await analytics.post(
        "/drift/detect/upload",
        files={"reference": ("a.csv", b"\x00\x01\x02garbage\xff"), "current": ("b.csv", _csv({"a": [1, 2]}))},
    )
    assert response.status_code == 422
    bad_form = await analytics.post(
        "/drift/detect/upload",
        files={"reference": ("a.csv", _csv({"a": [1, 2]})), "current": ("b.csv", _csv({"a": [1, 2]}))},
        data={"alpha": "2"},
    )
    assert bad_form.status_code == 422


async def test_alerts_list_and_acknowledge_bad_ids(analytics: httpx.AsyncClient) -> None:
    listed = (await analytics.get("/drift/alerts")).json()
    assert listed == {"alerts": [], "total": 0, "open": 0, "limit": 50, "offset": 0}
    assert (await analytics.post("/drift/alerts/999/acknowledge", json={})).status_code == 404
    assert (await analytics.get("/drift/alerts", params={"status": "nope"})).status_code == 422
    assert (await analytics.get("/drift/history/12345")).status_code == 404
    assert (await analytics.get("/drift/history", params={"limit": 0})).status_code == 422


async def test_drift_config_defaults_then_stored_and_validated(analytics: httpx.AsyncClient) -> None:
    default = (await analytics.get("/drift/config/m2")).json()
    assert default["stored"] is False and default["drift"]["alpha"] == 0.05
    body = {**default["drift"], "alpha": 0.01, "window_minutes": 30, "features": {"length": {"tests": ["psi"]}}}
    stored = await analytics.put("/drift/config/m2", json=body)
    assert stored.status_code == 200, stored.text
    again = (await analytics.get("/drift/config/m2")).json()
    assert again["stored"] is True and again["drift"]["alpha"] == 0.01
    assert again["drift"]["features"]["length"]["tests"] == ["psi"]
    assert (await analytics.put("/drift/config/m2", json={**body, "alpha": 0})).status_code == 422
    assert (await analytics.put("/drift/config/bad name", json=body)).status_code == 422
    assert (await analytics.get("/drift/config/*")).json()["model_name"] == "*"


async def test_status_lists_checked_models(analytics: httpx.AsyncClient) -> None:
    same = _samples(seed=9)
    await _detect(analytics, reference=same, current=same, model_name="m3", categorical=["channel"])
    status = (await analytics.get("/drift/status")).json()
    assert status["monitor_interval_seconds"] == 0
    assert [m["model_name"] for m in status["models"]] == ["m3"]
    assert status["models"][0]["monitored"] is False


async def test_a_live_check_of_an_unknown_model_says_why(analytics: httpx.AsyncClient) -> None:
    response = await analytics.post("/drift/check/unknown-model")
    assert response.status_code in (404, 503)  # the model API answers 404, or is not running here
    assert response.json()["error"] is True
