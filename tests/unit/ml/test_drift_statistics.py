"""Drift statistics: equal to SciPy's tests on the same data, PSI by hand, missing values dropped and counted."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlsec.ml.drift import statistics
from mlsec.ml.drift.samples import Sides, category_counts, numeric_sample
from mlsec.ml.drift.statistics import (
    PSI_EPSILON,
    adjust_p_values,
    chi_square_test,
    jensen_shannon,
    ks_test,
    psi,
    wasserstein,
)


def close(actual: float, expected: float) -> bool:
    """Equal to 1e-9, relative where the value is not tiny (p-values span hundreds of orders of magnitude)."""
    return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-300)


def normal(seed: int, size: int, loc: float = 0.0, decimals: int | None = None) -> np.ndarray[Any, Any]:
    values = np.random.default_rng(seed).normal(loc, 1.0, size)
    return values if decimals is None else np.round(values, decimals)


@pytest.mark.parametrize(
    ("n1", "n2", "shift", "decimals", "method"),
    [
        (8, 8, 0.0, None, "exact"),
        (10, 10, 1.5, None, "exact"),
        (30, 45, 0.5, 1, "exact"),  # ties within and across the samples
        (1000, 700, 0.1, None, "exact"),
        (500, 500, 0.3, 0, "exact"),  # heavy ties: integers
        (10_000, 9_999, 0.05, None, "exact"),
        (20_000, 15_000, 0.03, None, "asymptotic"),
        (120_000, 90_000, 0.0, 2, "asymptotic"),
        (120_000, 90_000, 0.02, None, "asymptotic"),  # effective size 51,429: the vectorised Smirnov sum
        (120_000, 90_000, 0.1, None, "asymptotic"),  # p-value near 1e-60
        (50_000, 12, 0.8, None, "asymptotic"),
    ],
)
def test_ks_equals_scipy_ks_2samp(n1: int, n2: int, shift: float, decimals: int | None, method: str) -> None:
    reference, current = normal(n1, n1, 0.0, decimals), normal(n2 + 1, n2, shift, decimals)
    expected = stats.ks_2samp(reference, current)
    result = ks_test(reference, current)
    assert abs(result.statistic - expected.statistic) <= 1e-9
    assert close(result.p_value, expected.pvalue)
    assert result.method == method
    assert (result.sides.reference_rows, result.sides.current_rows) == (n1, n2)


@pytest.mark.parametrize("n", [10_001, 51_429])
def test_fast_kolmogorov_survival_equals_scipy_kstwo(n: int) -> None:
    # Every branch around the vectorised one: small and large n*d^2, d >= 0.5, t = n*d near 1 and n - 1.
    for nd2 in (0.5, 2.1, 2.2, 3.0, 10.0, 50.0, 200.0, 369.0, 371.0):
        d = math.sqrt(nd2 / n)
        assert close(statistics._kstwo_sf(d, float(n)), float(stats.kstwo.sf(d, n))), (n, nd2)
    for d in (0.5, 0.7, 1.0 / n, 1.5 / n, 1 - 1.5 / n):
        assert close(statistics._kstwo_sf(d, float(n)), float(stats.kstwo.sf(d, n))), (n, d)


def test_ks_of_identical_samples_is_zero_with_p_value_one() -> None:
    values = normal(1, 300)
    result = ks_test(values, values.copy())
    assert result.statistic == 0.0
    assert result.p_value == 1.0


def contingency(reference: list[Any], current: list[Any]) -> np.ndarray[Any, Any]:
    categories = sorted({*reference, *current}, key=str)
    return np.array([[reference.count(c) for c in categories], [current.count(c) for c in categories]])


@pytest.mark.parametrize(
    ("reference", "current"),
    [
        (["a"] * 40 + ["b"] * 35 + ["c"] * 25, ["a"] * 20 + ["b"] * 50 + ["c"] * 30),
        (["x"] * 30 + ["y"] * 10, ["x"] * 18 + ["y"] * 20),  # dof 1: Yates' correction
        (["x"] * 30 + ["y"] * 30, ["x"] * 31 + ["y"] * 29),  # dof 1, the correction clipped at the gap
        (["a"] * 50 + ["b"] * 50, ["a"] * 40 + ["b"] * 40 + ["new"] * 20),  # a category only in current
        (["a"] * 5 + ["b"] * 5 + ["gone"] * 9, ["a"] * 6 + ["b"] * 7),  # a category only in reference
        ([1, 2, 3, 3, 2, 1, 1], [3, 3, 3, 2, 2, 4]),
    ],
)
def test_chi_square_equals_scipy_chi2_contingency(reference: list[Any], current: list[Any]) -> None:
    expected = stats.chi2_contingency(contingency(reference, current))
    result = chi_square_test(reference, current)
    assert close(result.statistic, expected.statistic)
    assert close(result.p_value, expected.pvalue)
    assert result.dof == expected.dof
    assert result.yates_correction == (expected.dof == 1)


def test_chi_square_counts_one_sided_categories_and_missing_values() -> None:
    result = chi_square_test(["a", "b", None, "gone", np.nan], ["a", "b", "new", "new", pd.NA])
    assert (result.categories, result.only_in_reference, result.only_in_current) == (4, 1, 1)
    assert result.sides == Sides(3, 4, 2, 1)


def test_chi_square_of_a_single_category_is_zero_with_p_value_one() -> None:
    result = chi_square_test(["a"] * 5, ["a"] * 9)
    expected = stats.chi2_contingency([[5], [9]])
    assert (result.statistic, result.p_value, result.dof) == (expected.statistic, expected.pvalue, 0) == (0.0, 1.0, 0)


def test_psi_by_hand_on_categories() -> None:
    result = psi(["a"] * 50 + ["b"] * 50, ["a"] * 25 + ["b"] * 75, categorical=True)
    assert result.statistic == pytest.approx((0.5 - 0.25) * math.log(0.5 / 0.25) + (0.5 - 0.75) * math.log(0.5 / 0.75))
    assert (result.bins, result.empty_bins, result.binning) == (2, 0, "categories")


def test_psi_puts_epsilon_in_empty_bins() -> None:
    result = psi(["a"] * 100, ["a"] * 50 + ["b"] * 50, categorical=True)
    eps = PSI_EPSILON
    assert result.statistic == pytest.approx((1 - 0.5) * math.log(1 / 0.5) + (eps - 0.5) * math.log(eps / 0.5))
    assert (result.empty_bins, result.epsilon) == (1, 1e-4)


def test_psi_by_hand_on_reference_deciles() -> None:
    # Deciles of 0..9 cut at 0.9, 1.8, ..., 8.1: one reference value per bin; every current value in the first.
    result = psi(np.arange(10.0), np.zeros(10))
    expected = (0.1 - 1.0) * math.log(0.1 / 1.0) + 9 * (0.1 - 1e-4) * math.log(0.1 / 1e-4)
    assert result.statistic == pytest.approx(expected)
    assert (result.bins, result.empty_bins, result.binning) == (10, 9, "reference quantiles")


def test_psi_merges_equal_quantile_edges() -> None:
    reference = np.array([0.0] * 60 + list(range(1, 41)), dtype=float)  # deciles 1 to 6 are all 0
    assert psi(reference, reference).bins == 6
    assert psi(reference, reference).statistic == 0.0


def reference_decile_counts(
    reference: np.ndarray[Any, Any], current: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The binning documented for numeric PSI and Jensen-Shannon, written with np.digitize."""
    edges = np.unique(np.quantile(reference, np.arange(1, 10) / 10))
    size = edges.size + 1
    return np.bincount(np.digitize(reference, edges), minlength=size), np.bincount(
        np.digitize(current, edges), minlength=size
    )


@pytest.mark.parametrize(("shift", "decimals"), [(0.0, None), (0.3, None), (1.0, 1), (5.0, None)])
def test_jensen_shannon_equals_scipy_on_the_binned_distributions(shift: float, decimals: int | None) -> None:
    reference, current = normal(3, 2000, 0.0, decimals), normal(4, 1500, shift, decimals)
    ref_counts, cur_counts = reference_decile_counts(reference, current)
    result = jensen_shannon(reference, current)
    assert close(result.statistic, float(jensenshannon(ref_counts, cur_counts, base=2)))
    assert 0.0 <= result.statistic <= 1.0


def test_jensen_shannon_on_categories_and_its_bounds() -> None:
    reference, current = ["a"] * 30 + ["b"] * 10, ["a"] * 5 + ["b"] * 20 + ["c"] * 15
    result = jensen_shannon(reference, current, categorical=True)
    assert close(result.statistic, float(jensenshannon([30, 10, 0], [5, 20, 15], base=2)))
    assert jensen_shannon(["a"] * 4, ["b"] * 4, categorical=True).statistic == pytest.approx(1.0)
    assert jensen_shannon(["a", "b"], ["b", "a"], categorical=True).statistic == 0.0


@pytest.mark.parametrize(
    ("n1", "n2", "shift", "decimals"), [(50, 70, 0.5, None), (2000, 2000, 0.1, 1), (30_000, 20_000, 0.02, None)]
)
def test_wasserstein_equals_scipy_and_is_normed_by_the_reference_std(
    n1: int, n2: int, shift: float, decimals: int | None
) -> None:
    reference, current = normal(5, n1, 0.0, decimals), normal(6, n2, shift, decimals)
    result = wasserstein(reference, current)
    assert close(result.distance, float(stats.wasserstein_distance(reference, current)))
    assert result.reference_std == pytest.approx(float(np.std(reference)), rel=1e-12)
    assert close(result.statistic, result.distance / result.reference_std)


def test_wasserstein_of_a_constant_reference_divides_by_evidentlys_floor() -> None:
    result = wasserstein(np.full(10, 3.0), np.array([3.0] * 5 + [4.0] * 5))
    assert (result.distance, result.reference_std, result.norm) == (0.5, 0.0, 0.001)
    assert result.statistic == pytest.approx(500.0)


def test_numeric_samples_drop_and_count_missing_values() -> None:
    sample = numeric_sample([3.0, None, np.nan, 1, np.inf, -np.inf, True, pd.NA, 2.5])
    assert sample.values.tolist() == [1.0, 1.0, 2.5, 3.0]
    assert sample.missing == 5
    assert numeric_sample(pd.Series([1.0, None, 2.0], dtype="Float64")).missing == 1
    assert numeric_sample(np.array([2, 1], dtype=np.int32)).values.dtype == np.float64
    result = ks_test([1.0, 2.0, None, 3.0], [np.nan, 1.0, 2.0])
    assert result.sides == Sides(3, 2, 1, 1)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1.0, "1.5"], "non-numeric values such as '1.0'"),  # NumPy makes them all text
        (np.array([1.0, "1.5"], dtype=object), "non-numeric value '1.5'"),
        (["a", "b"], "non-numeric values such as 'a'"),
        ([1.0, object()], "non-numeric value <object"),
        (np.array(["2024-01-01"], dtype="datetime64[D]"), "non-numeric values"),
        ([None, np.nan, np.inf], "no value left after dropping 3 missing"),
        ([], "no value left after dropping 0 missing"),
        (np.ones((2, 2)), "one-dimensional"),
    ],
)
def test_numeric_samples_refuse_what_is_not_a_number(values: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        numeric_sample(values, name="reference")


def test_category_counts_keep_floats_and_text_apart_and_refuse_an_empty_side() -> None:
    counts = category_counts(np.array([1.0, np.nan, 2.0]), np.array(["1.0", "nan"], dtype=object))
    assert counts.bins == 4  # 1.0, 2.0, "1.0", "nan": NaN is missing, the text "nan" is a category
    assert counts.sides == Sides(2, 2, 1, 0)
    assert category_counts(pd.Categorical(["a", "b", None]), ["b"]).sides == Sides(2, 1, 1, 0)
    with pytest.raises(ValueError, match="current has no value left after dropping 2 missing"):
        category_counts(["a"], [None, np.nan])


def test_bonferroni_and_benjamini_hochberg_by_hand() -> None:
    p = [0.01, 0.04, 0.03, 0.20]
    assert adjust_p_values(p, "none").tolist() == p
    assert adjust_p_values(p, "bonferroni") == pytest.approx([0.04, 0.16, 0.12, 0.80])
    # BH: sorted 0.01, 0.03, 0.04, 0.20 scaled by 4/rank: 0.04, 0.06, 0.0533, 0.20; then the running minimum
    # from the largest down: 0.20, 0.0533, 0.0533, 0.04.
    assert adjust_p_values(p, "benjamini-hochberg") == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20])
    assert adjust_p_values([0.5, 0.9], "bonferroni").tolist() == [1.0, 1.0]
    assert adjust_p_values([], "benjamini-hochberg").size == 0


def test_adjust_p_values_refuses_an_unknown_correction() -> None:
    with pytest.raises(ValueError, match="correction must be one of"):
        adjust_p_values([0.1], "holm")  # type: ignore[arg-type]


def test_quantile_bins_need_two_bins() -> None:
    with pytest.raises(ValueError, match="bins must be at least 2"):
        psi([1.0, 2.0], [1.0], bins=1)
