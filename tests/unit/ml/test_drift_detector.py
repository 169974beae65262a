"""detect_drift: the automatic choice, corrections, overrides, severity, the dataset rule and every refusal."""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlsec.ml.drift import (
    DriftConfig,
    DriftReport,
    FeatureOverride,
    adjust_p_values,
    detect_drift,
)
from mlsec.ml.drift import detector as detector_module
from mlsec.ml.drift.detector import _distance_severity, _p_value_severity

Columns = dict[str, Any]


def normal(seed: int, size: int, loc: float = 0.0) -> np.ndarray[Any, Any]:
    return np.random.default_rng(seed).normal(loc, 1.0, size)


def categories(seed: int, size: int, shares: list[float]) -> np.ndarray[Any, Any]:
    return np.random.default_rng(seed).choice(np.array(["a", "b", "c", "d"][: len(shares)]), size, p=shares)


def only_test(report: DriftReport, feature: str) -> Any:
    (result,) = report.feature(feature).tests
    return result


def test_small_reference_gets_p_value_tests() -> None:
    rows = 1000  # Evidently's cutoff is inclusive: 1,000 rows is still small
    reference = {"num": normal(1, rows), "cat": categories(2, rows, [0.5, 0.5]), "disc": np.arange(rows) % 3}
    current = {"num": normal(3, 400), "cat": categories(4, 400, [0.5, 0.5]), "disc": np.arange(400) % 3}
    report = detect_drift(reference, current, categorical=["cat"])
    assert [only_test(report, name).test for name in ("num", "cat", "disc")] == ["ks", "chi2", "chi2"]
    assert "1,000 rows (<= 1,000)" in report.feature("num").reason
    assert "3 distinct values (<= 5), tested as categories" in report.feature("disc").reason
    assert report.feature("disc").kind == "numeric"
    assert "Tests chosen automatically" in report.method
    assert "3 p-values are adjusted by Benjamini-Hochberg" in report.method
    assert not report.drift_detected


def test_large_reference_gets_distances() -> None:
    rows = 1001
    reference = {"num": normal(1, rows), "cat": categories(2, rows, [0.5, 0.5]), "disc": np.arange(rows) % 3}
    current = {"num": normal(3, 500), "cat": categories(4, 500, [0.5, 0.5]), "disc": np.arange(500) % 3}
    report = detect_drift(reference, current, categorical=["cat"])
    chosen = [only_test(report, name) for name in ("num", "cat", "disc")]
    assert [result.test for result in chosen] == ["wasserstein", "jensen_shannon", "jensen_shannon"]
    assert [result.threshold for result in chosen] == [0.1, 0.1, 0.1]
    assert all(result.p_value is None and result.p_value_adjusted is None for result in chosen)
    assert chosen[2].details["binning"] == "values"
    assert "a p-value test would flag negligible shifts" in report.feature("num").reason
    assert "No p-value test ran, so no correction." in report.method


def test_the_automatic_choice_counts_rows_after_dropping_missing_values() -> None:
    reference = {"x": np.concatenate([normal(1, 900), np.full(500, np.nan)])}
    report = detect_drift(reference, {"x": normal(2, 300)})
    assert only_test(report, "x").test == "ks"
    assert (report.feature("x").reference_rows, report.feature("x").reference_missing) == (900, 500)


def test_same_data_does_not_drift_and_shifted_data_does_with_its_severity() -> None:
    rows = 5000
    reference = {name: normal(seed, rows) for seed, name in enumerate(("same", "low", "medium", "high"))}
    current = {
        "same": reference["same"].copy(),
        "low": normal(10, rows, 0.15),
        "medium": normal(11, rows, 0.3),
        "high": normal(12, rows, 0.6),
    }
    report = detect_drift(reference, current)
    severities = {feature.feature: feature.severity for feature in report.features}
    assert severities == {"same": "none", "low": "low", "medium": "medium", "high": "high"}
    assert only_test(report, "same").statistic == 0.0
    assert [feature.drift_detected for feature in report.features] == [False, True, True, True]
    assert (report.drifted_features, report.drifted_share, report.drift_detected) == (3, 0.75, True)
    assert report.severity == "high"


def test_identical_datasets_report_no_drift_at_all() -> None:
    data = {"x": normal(1, 300), "y": categories(2, 300, [0.2, 0.3, 0.5])}
    report = detect_drift(data, data, categorical=["y"])
    assert (report.drift_detected, report.severity, report.drifted_features) == (False, "none", 0)
    assert [only_test(report, name).p_value for name in ("x", "y")] == [1.0, 1.0]


def test_p_value_severity_steps() -> None:
    steps = (0.1, 0.01)
    assert _p_value_severity(0.2, 0.05, steps) == "none"
    assert _p_value_severity(0.05, 0.05, steps) == "none"  # drift is p strictly below alpha
    assert _p_value_severity(0.049, 0.05, steps) == "low"
    assert _p_value_severity(0.0049, 0.05, steps) == "medium"
    assert _p_value_severity(0.00049, 0.05, steps) == "high"


def test_distance_severity_steps() -> None:
    steps = (2.0, 4.0)
    assert _distance_severity(0.099, 0.1, steps) == "none"
    assert _distance_severity(0.1, 0.1, steps) == "low"  # reaching the threshold is drift, as in Evidently
    assert _distance_severity(0.2, 0.1, steps) == "medium"
    assert _distance_severity(0.4, 0.1, steps) == "high"


def test_severity_steps_are_configurable_per_test() -> None:
    reference, current = {"x": normal(1, 3000)}, {"x": normal(2, 3000, 0.3)}
    assert detect_drift(reference, current).severity == "medium"
    config = DriftConfig(severity_steps={"wasserstein": (1.0, 1.5)})
    assert detect_drift(reference, current, config=config).severity == "high"


def ks_features() -> tuple[Columns, Columns, float]:
    """Three features for KS: one shifted (its p-value returned), two identical (p-value 1)."""
    reference = {"shifted": normal(1, 200), "a": normal(2, 200), "b": normal(3, 200)}
    current = {"shifted": normal(4, 200, 0.3), "a": reference["a"].copy(), "b": reference["b"].copy()}
    return reference, current, float(stats.ks_2samp(reference["shifted"], current["shifted"]).pvalue)


@pytest.mark.parametrize("correction", ["none", "bonferroni", "benjamini-hochberg"])
def test_corrections_adjust_p_values_across_features(correction: Any) -> None:
    reference, current, p = ks_features()
    assert 0.0 < p < 0.1
    config = DriftConfig(alpha=2 * p, correction=correction)  # raw p is below alpha, 3 p is not
    report = detect_drift(reference, current, config=config)
    result = only_test(report, "shifted")
    assert result.p_value == pytest.approx(p, rel=1e-9)
    expected = {"none": p, "bonferroni": 3 * p, "benjamini-hochberg": 3 * p}[correction]  # BH: p_(1) * m / 1
    assert result.p_value_adjusted == pytest.approx(expected, rel=1e-9)
    assert result.drift_detected == (correction == "none")
    assert [only_test(report, name).p_value_adjusted for name in ("a", "b")] == [1.0, 1.0]


def test_benjamini_hochberg_across_features_equals_the_hand_computation() -> None:
    reference = {f"f{i}": normal(i, 300) for i in range(4)}
    current = {f"f{i}": normal(10 + i, 300, 0.08 * i) for i in range(4)}
    report = detect_drift(reference, current, tests=["ks"])
    raw = np.array([only_test(report, f"f{i}").p_value for i in range(4)])
    order = np.argsort(raw)
    by_hand = np.empty(4)
    running = 1.0
    for rank in range(4, 0, -1):  # from the largest p-value down, the running minimum of p * m / rank
        running = min(running, raw[order[rank - 1]] * 4 / rank)
        by_hand[order[rank - 1]] = running
    adjusted = [only_test(report, f"f{i}").p_value_adjusted for i in range(4)]
    assert adjusted == pytest.approx(by_hand.tolist(), rel=1e-12)
    assert adjusted == pytest.approx(adjust_p_values(raw, "benjamini-hochberg").tolist(), rel=1e-12)
    assert "Tests given by the call: ks." in report.method


def test_feature_overrides_change_tests_alpha_and_thresholds() -> None:
    reference, current, p = ks_features()
    config = DriftConfig(
        feature_overrides={
            "shifted": FeatureOverride(alpha=min(0.99, 4 * p)),  # 3 p (adjusted) is now below its alpha
            "a": FeatureOverride(tests=["psi", "jensen_shannon"], thresholds={"psi": 0.5}),
        }
    )
    report = detect_drift(reference, current, config=config)
    shifted = only_test(report, "shifted")
    assert (shifted.threshold, shifted.drift_detected) == (min(0.99, 4 * p), True)
    assert [result.test for result in report.feature("a").tests] == ["psi", "jensen_shannon"]
    assert [result.threshold for result in report.feature("a").tests] == [0.5, 0.1]
    assert "set by the feature's override" in report.feature("a").reason
    assert "Tests set per feature for: a." in report.method
    assert "2 p-values" in report.method  # the override took feature a out of the KS family


def test_a_threshold_override_can_clear_a_feature() -> None:
    reference, current = (
        {"x": normal(1, 3000), "y": normal(2, 3000)},
        {"x": normal(3, 3000, 0.3), "y": normal(4, 3000, 0.3)},
    )
    config = DriftConfig(feature_overrides={"x": FeatureOverride(thresholds={"wasserstein": 0.5})})
    report = detect_drift(reference, current, config=config)
    assert [feature.drift_detected for feature in report.features] == [False, True]


def test_a_feature_with_several_tests_drifts_when_any_does_and_takes_the_worst_severity() -> None:
    reference, current = {"x": normal(1, 3000)}, {"x": normal(2, 3000, 0.3)}
    report = detect_drift(reference, current, tests=["wasserstein", "psi", "ks"])
    feature = report.feature("x")
    assert [result.test for result in feature.tests] == ["wasserstein", "psi", "ks"]
    assert [result.severity for result in feature.tests] == ["medium", "none", "high"]
    assert (feature.drift_detected, feature.severity) == (True, "high")


@pytest.mark.parametrize(("share", "expected"), [(0.5, True), (0.75, False)])
def test_the_dataset_drifts_when_the_drifted_share_reaches_drift_share(share: float, expected: bool) -> None:
    reference = {f"f{i}": normal(i, 2000) for i in range(4)}
    current = {f"f{i}": normal(10 + i, 2000, 0.5 if i < 2 else 0.0) for i in range(4)}
    report = detect_drift(reference, current, config=DriftConfig(drift_share=share))
    assert (report.drifted_features, report.drifted_share, report.drift_detected) == (2, 0.5, expected)
    assert f"at least {share:.0%} of its features drift" in report.method


def walk(value: Any) -> None:
    """Every value of a to_dict() is a plain JSON type: no numpy scalar, no NaN."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            assert type(key) is str
            walk(item)
    elif isinstance(value, list):
        for item in value:
            walk(item)
    else:
        assert value is None or type(value) in (str, int, float, bool), (value, type(value))


def test_to_dict_is_plain_json() -> None:
    reference = {"x": normal(1, 500), "c": categories(2, 500, [0.7, 0.3]), "w": np.full(2000, 1.0)}
    current = {"x": normal(3, 500, 0.5), "c": categories(4, 500, [0.3, 0.7]), "w": np.full(2000, 1.0)}
    report = detect_drift(reference, current, categorical=["c"], tests=["psi", "jensen_shannon"])
    data = report.to_dict()
    walk(data)
    json.dumps(data, allow_nan=False)
    assert data["features_total"] == 3
    assert data["features"][1]["tests"][0]["details"] == {
        "bins": 2,
        "binning": "categories",
        "empty_bins": 0,
        "epsilon": 1e-4,
    }
    assert set(data) >= {"drift_detected", "severity", "drifted_features", "drifted_share", "method", "correction"}


def test_dataframes_and_lists_with_missing_values_are_accepted() -> None:
    reference = pd.DataFrame({"x": [1.0, 2.0, None, 4.0, 5.0], "c": ["a", "b", None, "a", "b"]})
    current = {"x": [1, 2, 3, None], "c": ["a", "a", "b", np.nan]}
    report = detect_drift(reference, current, categorical=["c"])
    x, c = report.feature("x"), report.feature("c")
    assert (x.reference_rows, x.reference_missing, x.current_rows, x.current_missing) == (4, 1, 3, 1)
    assert (c.reference_rows, c.reference_missing, c.current_rows, c.current_missing) == (4, 1, 3, 1)


def test_threads_across_features_give_the_same_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detector_module, "PARALLEL_MIN_ROWS", 0)
    reference = {f"f{i}": normal(i, 3000) for i in range(4)}
    current = {f"f{i}": normal(10 + i, 3000, 0.05 * i) for i in range(4)}
    threaded = detect_drift(reference, current, config=DriftConfig(max_workers=4))
    serial = detect_drift(reference, current, config=DriftConfig(max_workers=1))
    assert threaded == serial
    current["f2"] = np.array(["oops"] * 3000, dtype=object)
    with pytest.raises(ValueError, match="numeric feature 'f2' in current holds a non-numeric value 'oops'"):
        detect_drift(reference, current, config=DriftConfig(max_workers=4))


def call(reference: Columns, current: Columns | None = None, **kwargs: Any) -> DriftReport:
    return detect_drift(reference, reference if current is None else current, **kwargs)


X = {"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"reference": {}}, "reference has no feature"),
        ({"reference": {1: [1.0]}}, "feature names must be strings"),
        ({"reference": X, "current": {"x": [1.0]}}, "features missing from current: 'c'"),
        ({"reference": X, "current": {**X, "z": [1.0]}}, "features in current but not in reference: 'z'"),
        ({"reference": X, "categorical": ["c", "nope"]}, "categorical names features not in the data: 'nope'"),
        ({"reference": X, "categorical": "c"}, "categorical must be a collection of feature names"),
        ({"reference": X, "categorical": ["c"], "tests": ["ks", "t"]}, "unknown test 't'; the tests are"),
        ({"reference": X, "categorical": ["c"], "tests": "ks"}, "must be a list of test names"),
        ({"reference": X, "categorical": ["c"], "tests": []}, "tests is empty"),
        ({"reference": X, "categorical": ["c"], "tests": ["ks"]}, "test 'ks' .* does not fit categorical feature 'c'"),
        ({"reference": X, "categorical": ["c"], "tests": ["wasserstein"]}, "does not fit categorical feature 'c'"),
        ({"reference": X, "categorical": ["c"], "tests": ["chi2"]}, "test 'chi2' .* does not fit numeric feature 'x'"),
        ({"reference": X}, "numeric feature 'c' in reference holds non-numeric values such as 'a'"),
        (
            {"reference": X, "current": {"x": [None, np.nan], "c": ["a"]}, "categorical": ["c"]},
            "numeric feature 'x' in current has no value left after dropping 2 missing",
        ),
        (
            {"reference": X, "current": {"x": [1.0], "c": [None]}, "categorical": ["c"]},
            "categorical feature 'c' in current has no value left",
        ),
        (
            {
                "reference": X,
                "categorical": ["c"],
                "config": DriftConfig(feature_overrides={"y": FeatureOverride(alpha=0.1)}),
            },
            "feature_overrides names features not in the data: 'y'",
        ),
        (
            {
                "reference": X,
                "categorical": ["c"],
                "config": DriftConfig(feature_overrides={"c": FeatureOverride(tests=["ks"])}),
            },
            r"test 'ks' \(set by the feature's override\) does not fit categorical feature 'c'",
        ),
    ],
)
def test_detect_drift_refusals_name_what_is_wrong(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(**arguments)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"alpha": 0.0}, "alpha must be a number strictly between 0 and 1, got 0.0"),
        ({"alpha": 1.0}, "alpha must be a number strictly between 0 and 1"),
        ({"alpha": "0.05"}, "alpha must be a number strictly between 0 and 1"),
        ({"correction": "holm"}, "correction must be one of bonferroni, benjamini-hochberg, none; got 'holm'"),
        ({"small_reference_rows": -1}, "small_reference_rows must be an integer >= 0"),
        ({"discrete_values": 2.5}, "discrete_values must be an integer >= 0"),
        ({"bins": 1}, "bins must be an integer >= 2"),
        ({"drift_share": 0.0}, r"drift_share must be a number in \(0, 1\]"),
        ({"drift_share": 1.5}, r"drift_share must be a number in \(0, 1\]"),
        ({"max_workers": 0}, "max_workers must be None or an integer >= 1"),
        ({"thresholds": {"psi": 0.0}}, r"thresholds\['psi'\] must be a finite number > 0, got 0.0"),
        ({"thresholds": {"psi": float("inf")}}, r"thresholds\['psi'\] must be a finite number > 0"),
        ({"thresholds": {"ks": 0.1}}, "thresholds names 'ks', which has no threshold"),
        ({"severity_steps": {"nope": (0.1, 0.01)}}, "severity_steps: unknown test 'nope'"),
        ({"severity_steps": {"ks": (0.01, 0.1)}}, "need 1 >= medium >= high > 0"),
        ({"severity_steps": {"psi": (0.5, 4.0)}}, "need 1 <= medium <= high"),
        ({"severity_steps": {"psi": (2.0,)}}, "must be two numbers"),
        ({"feature_overrides": {"x": {"alpha": 0.1}}}, "feature_overrides\\['x'\\] must be a FeatureOverride"),
    ],
)
def test_config_refuses_bad_settings(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DriftConfig(**settings)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"alpha": 2.0}, "FeatureOverride.alpha must be a number strictly between 0 and 1"),
        ({"tests": ["kolmogorov"]}, "FeatureOverride.tests: unknown test 'kolmogorov'"),
        ({"thresholds": {"wasserstein": -1.0}}, r"FeatureOverride.thresholds\['wasserstein'\] must be a finite"),
    ],
)
def test_feature_override_refuses_bad_settings(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FeatureOverride(**settings)


def test_config_merges_partial_thresholds_and_steps_over_the_defaults() -> None:
    config = DriftConfig(thresholds={"psi": 0.25}, severity_steps={"ks": (0.5, 0.05)})
    assert dict(config.thresholds) == {"psi": 0.25, "jensen_shannon": 0.1, "wasserstein": 0.1}
    assert config.severity_steps["ks"] == (0.5, 0.05)
    assert config.severity_steps["wasserstein"] == (2.0, 4.0)


def test_a_config_pickles_for_process_pools_and_caches() -> None:
    config = DriftConfig(alpha=0.01, feature_overrides={"x": FeatureOverride(tests=["psi"], thresholds={"psi": 0.2})})
    assert pickle.loads(pickle.dumps(config)) == config
