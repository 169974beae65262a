"""Trends and correlation of KPIs over the rollups: the series, slope, interval and change points, and the
coefficients, each compared with SciPy on per-bucket figures computed here from the records loaded."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest
from scipy import stats

from mlsec.services.business_metrics.service.rollups import PredictionSample
from tests.api.business_metrics.conftest import prediction

pytestmark = pytest.mark.anyio
LoadPredictions = Callable[[Iterable[PredictionSample]], Awaitable[None]]
HOURS = 12


def counts() -> list[int]:
    """Predictions per hour: rising 5 an hour, with a wobble so the fit is not exact."""
    return [10 + 5 * i + (3 if i % 3 == 0 else -2 if i % 3 == 1 else 0) for i in range(HOURS)]


def latencies(hour: int, count: int) -> list[float]:
    """The latencies of one hour: about 10 ms for the first half of the hours, about 40 ms after."""
    base = 10.0 if hour < HOURS // 2 else 40.0
    return [base + (i % 5) for i in range(count)]


async def load(load_predictions: LoadPredictions) -> tuple[datetime, list[float]]:
    """Hourly traffic of version 1; the period's start and the mean latency of each hour."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS)
    means = []
    for hour, count in enumerate(counts()):
        at = start + timedelta(hours=hour, minutes=7)
        values = latencies(hour, count)
        await load_predictions(prediction(at, latency_ms=ms) for ms in values)
        means.append(sum(values) / len(values))
    return start, means


def window(start: datetime, **extra: Any) -> dict[str, Any]:
    end = start + timedelta(hours=HOURS)
    return {"start": start.isoformat(), "end": end.isoformat(), "resolution": "hour", **extra}


async def test_the_trend_of_predictions_matches_a_fit_of_the_loaded_counts(
    client: httpx.AsyncClient, load_predictions: LoadPredictions
) -> None:
    start, _ = await load(load_predictions)
    answer = await client.get("/analytics/trends", params=window(start, kpi="predictions"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["kpi"], body["unit"], body["resolution"]) == ("predictions", "count", "hour")
    assert [point["value"] for point in body["series"]] == [float(c) for c in counts()]
    assert datetime.fromisoformat(body["series"][0]["start"]) == start
    expected = stats.linregress(np.arange(HOURS, dtype=float), counts())
    margin = stats.t.ppf(0.975, HOURS - 2) * expected.stderr
    trend = body["trend"]
    assert trend["slope_per_hour"] == pytest.approx(expected.slope, rel=1e-9)
    assert (trend["ci_low"], trend["ci_high"]) == pytest.approx((expected.slope - margin, expected.slope + margin))
    assert trend["p_value"] == pytest.approx(expected.pvalue, rel=1e-6)
    assert trend["ci_low"] < 5 < trend["ci_high"]  # the rise the records were made with
    assert (trend["direction"], trend["points"], trend["confidence"]) == ("up", HOURS, 0.95)


async def test_a_step_in_latency_is_a_change_point(
    client: httpx.AsyncClient, load_predictions: LoadPredictions
) -> None:
    start, means = await load(load_predictions)
    body = (await client.get("/analytics/trends", params=window(start, kpi="latency_mean_ms"))).json()
    assert [p["value"] for p in body["series"]] == pytest.approx(means)
    [point] = body["change_points"]
    step = HOURS // 2
    assert datetime.fromisoformat(point["at"]) == start + timedelta(hours=step)
    assert point["mean_before"] == pytest.approx(np.mean(means[:step]))
    assert point["mean_after"] == pytest.approx(np.mean(means[step:]))
    assert point["p_value"] < 0.05


async def test_correlation_of_kpis_matches_scipy_on_the_same_buckets(
    client: httpx.AsyncClient, load_predictions: LoadPredictions
) -> None:
    start, means = await load(load_predictions)
    kpis = ["predictions", "latency_mean_ms", "throughput_per_s"]
    answer = await client.get("/analytics/correlation", params=window(start, kpi=kpis))
    assert answer.status_code == 200, answer.text
    pairs = {(p["a"], p["b"]): p for p in answer.json()["pairs"]}
    assert set(pairs) == {
        ("predictions", "latency_mean_ms"),
        ("predictions", "throughput_per_s"),
        ("latency_mean_ms", "throughput_per_s"),
    }
    pair = pairs[("predictions", "latency_mean_ms")]
    pearson, spearman = stats.pearsonr(counts(), means), stats.spearmanr(counts(), means)
    assert pair["n"] == HOURS
    assert (pair["pearson"]["r"], pair["pearson"]["p_value"]) == pytest.approx((pearson.statistic, pearson.pvalue))
    assert (pair["spearman"]["rho"], pair["spearman"]["p_value"]) == pytest.approx(
        (spearman.statistic, spearman.pvalue)
    )
    same = pairs[("predictions", "throughput_per_s")]  # throughput is predictions / 3600 s: r = 1
    assert math.isclose(same["pearson"]["r"], 1.0, rel_tol=1e-9) and same["spearman"]["rho"] == pytest.approx(1.0)


async def test_no_data_gives_no_trend_and_too_few_pairs_is_refused(client: httpx.AsyncClient) -> None:
    body = (await client.get("/analytics/trends", params={"kpi": "latency_p99_ms", "period": "6h"})).json()
    assert body["trend"] is None and body["change_points"] == []
    assert body["series"] and all(point["value"] is None for point in body["series"])
    refused = await client.get("/analytics/correlation", params={"kpi": ["predictions", "latency_p99_ms"]})
    assert refused.status_code == 422
    assert "at least 3" in refused.json()["message"] and refused.json()["details"]["a"] == "predictions"


@pytest.mark.parametrize(
    ("path", "params", "says"),
    [
        ("/analytics/trends", {"kpi": "happiness"}, "unknown KPI"),
        ("/analytics/trends", {}, ""),
        ("/analytics/trends", {"kpi": "predictions", "period": "soon"}, "period"),
        ("/analytics/trends", {"kpi": "predictions", "period": "300d", "resolution": "minute"}, ""),
        ("/analytics/correlation", {"kpi": ["predictions"]}, ""),
        ("/analytics/correlation", {"kpi": ["predictions", "predictions"]}, "two different KPIs"),
        ("/analytics/correlation", {"kpi": ["predictions", "happiness"]}, "unknown KPI"),
    ],
)
async def test_bad_questions_are_refused(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], says: str
) -> None:
    answer = await client.get(path, params=params)
    assert answer.status_code == 422 and answer.json()["error"] is True
    assert says in answer.json()["message"]
