"""Trend, change points and correlation of KPI series: known series, and SciPy's figures on the same points."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy import stats

from mlsec.services.business_metrics.service import trends

START = datetime(2026, 1, 5, tzinfo=UTC)


def series(values: Sequence[float | None], *, minutes: int = 60) -> list[tuple[datetime, float | None]]:
    return [(START + timedelta(minutes=minutes * i), value) for i, value in enumerate(values)]


def test_a_noisy_line_has_its_true_slope_inside_the_interval() -> None:
    rng = np.random.default_rng(7)
    true_slope = 2.5  # per hour; the points are hourly
    values = [10.0 + true_slope * i + float(rng.normal(0, 3.0)) for i in range(48)]
    fit = trends.fit_trend(series(values))
    assert fit is not None and fit.points == 48
    assert fit.ci_low < true_slope < fit.ci_high
    assert fit.direction == "up" and fit.p_value is not None and fit.p_value < 1e-10
    expected = stats.linregress(np.arange(48.0), values)
    margin = stats.t.ppf(0.975, 46) * expected.stderr
    assert math.isclose(fit.slope_per_hour, expected.slope, rel_tol=1e-12)
    assert math.isclose(fit.ci_low, expected.slope - margin, rel_tol=1e-12)
    assert math.isclose(fit.ci_high, expected.slope + margin, rel_tol=1e-12)
    assert math.isclose(fit.p_value, expected.pvalue, rel_tol=1e-9)


def test_the_slope_is_per_hour_whatever_the_bucket_size() -> None:
    per_minute = [100.0 - 0.5 * i for i in range(30)]  # minute buckets falling 0.5 a minute: 30 an hour
    fit = trends.fit_trend(series(per_minute, minutes=1))
    assert fit is not None and math.isclose(fit.slope_per_hour, -30.0, rel_tol=1e-9)
    assert fit.direction == "down"


def test_noise_without_a_slope_is_flat_and_gaps_are_left_out() -> None:
    rng = np.random.default_rng(11)
    values: list[float | None] = [float(v) for v in rng.normal(50, 5, 40)]
    values[3] = values[17] = None
    fit = trends.fit_trend(series(values))
    assert fit is not None and fit.points == 38
    assert fit.ci_low < 0 < fit.ci_high and fit.direction == "flat"
    assert fit.p_value is not None and fit.p_value >= 0.05


def test_a_constant_series_and_too_few_points() -> None:
    constant = trends.fit_trend(series([4.0] * 10))
    assert constant is not None and (constant.slope_per_hour, constant.ci_low, constant.ci_high) == (0.0, 0.0, 0.0)
    assert constant.p_value is None and constant.direction == "flat"
    assert trends.fit_trend(series([1.0, None, 2.0])) is None


def test_a_step_gives_one_change_point_at_the_step() -> None:
    rng = np.random.default_rng(3)
    values = [float(v) for v in np.concatenate([rng.normal(20, 2, 30), rng.normal(35, 2, 30)])]
    found = trends.find_change_points(series(values))
    assert len(found) == 1
    point = found[0]
    assert abs(point.index - 30) <= 1 and point.at == START + timedelta(hours=point.index)
    assert math.isclose(point.mean_before, float(np.mean(values[: point.index])))
    assert math.isclose(point.mean_after, float(np.mean(values[point.index :])))
    welch = stats.ttest_ind(values[: point.index], values[point.index :], equal_var=False).pvalue
    tried = len(values) - 2 * trends.MIN_SEGMENT + 1
    assert math.isclose(point.p_value, min(1.0, welch * tried), rel_tol=1e-9) and point.p_value < 1e-10


def test_two_steps_give_two_change_points_and_noise_gives_none() -> None:
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.normal(10, 1, 25), rng.normal(18, 1, 25), rng.normal(12, 1, 25)])
    found = trends.find_change_points(series([float(v) for v in values]))
    assert [abs(p.index - step) <= 1 for p, step in zip(found, (25, 50), strict=True)] == [True, True]
    assert 17 < found[0].mean_after < 19 and 17 < found[1].mean_before < 19
    flat = [float(v) for v in np.random.default_rng(8).normal(40, 4, 60)]
    assert trends.find_change_points(series(flat)) == []


def test_a_noiseless_step_is_certain_and_short_series_have_none() -> None:
    found = trends.find_change_points(series([1.0] * 6 + [9.0] * 6))
    assert [(p.index, p.mean_before, p.mean_after, p.p_value) for p in found] == [(6, 1.0, 9.0, 0.0)]
    assert trends.find_change_points(series([1.0, 1.0, 9.0, 9.0, 9.0])) == []


def test_unrelated_series_are_not_significantly_correlated() -> None:
    rng = np.random.default_rng(21)
    a, b = rng.normal(0, 1, 60), rng.normal(0, 1, 60)
    result = trends.correlate(series([float(v) for v in a]), series([float(v) for v in b]))
    assert result.n == 60
    assert result.pearson.p_value is not None and result.pearson.p_value > 0.05
    assert result.spearman.p_value is not None and result.spearman.p_value > 0.05
    expected = stats.pearsonr(a, b)
    assert math.isclose(result.pearson.value or 0.0, expected.statistic, rel_tol=1e-12)
    assert math.isclose(result.pearson.p_value, expected.pvalue, rel_tol=1e-9)


def test_related_series_are_paired_on_the_buckets_where_both_have_a_value() -> None:
    rng = np.random.default_rng(4)
    load = rng.uniform(10, 100, 30)
    latency = 5.0 + 0.3 * load + rng.normal(0, 2, 30)
    first: list[float | None] = [float(v) for v in load]
    second: list[float | None] = [float(v) for v in latency]
    first[2], second[9] = None, None
    result = trends.correlate(series(first), series(second))
    kept = [i for i in range(30) if i not in (2, 9)]
    assert result.n == len(kept) == 28
    pearson = stats.pearsonr(load[kept], latency[kept])
    spearman = stats.spearmanr(load[kept], latency[kept])
    assert math.isclose(result.pearson.value or 0.0, pearson.statistic, rel_tol=1e-12) and pearson.statistic > 0.9
    assert math.isclose(result.spearman.value or 0.0, spearman.statistic, rel_tol=1e-12)
    assert math.isclose(result.spearman.p_value or 1.0, spearman.pvalue, rel_tol=1e-9)


def test_too_few_pairs_and_a_constant_series() -> None:
    with pytest.raises(trends.TooFewPointsError, match="2 buckets"):
        trends.correlate(series([1.0, 2.0, 3.0]), series([5.0, None, 7.0]))
    constant = trends.correlate(series([1.0, 2.0, 3.0, 4.0]), series([2.0] * 4))
    assert constant.n == 4 and constant.pearson.value is None and constant.spearman.p_value is None
