"""Thresholds, metrics equal to scikit-learn's, and plots that are PNG files."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from mlsec.ml.evaluation import (
    binary_metrics,
    choose_threshold,
    confusion_matrix_png,
    multiclass_metrics,
    pr_curve_png,
    regression_metrics,
    residuals_png,
    roc_curve_png,
)

PNG = b"\x89PNG"


def test_threshold_maximises_f1_on_a_toy_case() -> None:
    # >=0.8: F1 .67; >=0.4: .5; >=0.35: .8 (best); >=0.1: .67. The best interval (0.1, 0.35] excludes 0.5.
    y = np.array([0, 0, 1, 1])
    assert choose_threshold(y, np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.35)


def test_threshold_ties_go_to_the_point_closest_to_half() -> None:
    y = np.array([0, 0, 1, 1])
    assert choose_threshold(y, np.array([0.1, 0.2, 0.7, 0.9])) == 0.5  # any threshold in (0.2, 0.7] is perfect
    assert choose_threshold(y, np.array([0.6, 0.65, 0.8, 0.9])) == pytest.approx(0.725)  # inside (0.65, 0.8]


def test_threshold_is_always_strictly_between_zero_and_one() -> None:
    assert 0 < choose_threshold(np.array([1, 1, 0]), np.array([0.0, 0.0, 0.0])) < 1
    assert 0 < choose_threshold(np.array([0, 1]), np.array([0.0, 1.0])) < 1
    assert choose_threshold(np.array([1, 1]), np.array([0.2, 0.9])) == 0.5  # one class: nothing to choose


def test_threshold_f1_matches_the_best_achievable() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    scores = np.clip(y * 0.3 + rng.normal(0.35, 0.2, 300), 0, 1)
    threshold = choose_threshold(y, scores)
    best = max(skm.f1_score(y, scores >= t) for t in np.unique(scores))
    assert skm.f1_score(y, scores >= threshold) == pytest.approx(best)


def test_binary_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    scores = np.clip(y * 0.4 + rng.uniform(0, 0.6, 200), 0, 1)
    result = binary_metrics(y, scores, 0.45)
    predicted = scores >= 0.45
    assert result == pytest.approx(
        {
            "precision": skm.precision_score(y, predicted),
            "recall": skm.recall_score(y, predicted),
            "f1": skm.f1_score(y, predicted),
            "accuracy": skm.accuracy_score(y, predicted),
            "roc_auc": skm.roc_auc_score(y, scores),
            "pr_auc": skm.average_precision_score(y, scores),
            "threshold": 0.45,
        }
    )
    assert all(type(value) is float for value in result.values())


def test_binary_metrics_leave_out_auc_with_one_class() -> None:
    result = binary_metrics(np.array([1, 1, 1]), np.array([0.2, 0.6, 0.9]), 0.5)
    assert "roc_auc" not in result
    assert result["recall"] == pytest.approx(2 / 3)


def test_regression_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(size=100)
    predicted = y + rng.normal(scale=0.3, size=100)
    assert regression_metrics(y, predicted) == pytest.approx(
        {
            "rmse": float(np.sqrt(skm.mean_squared_error(y, predicted))),
            "mae": skm.mean_absolute_error(y, predicted),
            "r2": skm.r2_score(y, predicted),
        }
    )


def test_multiclass_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(3)
    classes = ["a", "b", "c"]
    y = rng.choice(classes, 150)
    proba = rng.dirichlet([1, 1, 1], 150)
    proba[np.arange(150), [classes.index(label) for label in y]] += 0.5
    proba /= proba.sum(axis=1, keepdims=True)
    predicted = np.array(classes)[proba.argmax(axis=1)]
    result = multiclass_metrics(y, predicted, proba, classes)
    assert result == pytest.approx(
        {
            "accuracy": skm.accuracy_score(y, predicted),
            "f1_macro": skm.f1_score(y, predicted, average="macro"),
            "precision_macro": skm.precision_score(y, predicted, average="macro"),
            "recall_macro": skm.recall_score(y, predicted, average="macro"),
            "roc_auc_ovr": skm.roc_auc_score(y, proba, multi_class="ovr", labels=classes),
        }
    )
    missing_class = multiclass_metrics(y[y != "c"], predicted[y != "c"], proba[y != "c"], classes)
    assert "roc_auc_ovr" not in missing_class


def test_plots_are_png_bytes() -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 50)
    scores = rng.uniform(size=50)
    for png in (
        confusion_matrix_png(np.array([[5, 2], [1, 7]]), ["benign", "injection"]),
        roc_curve_png(y, scores),
        pr_curve_png(y, scores),
        residuals_png(rng.normal(size=50), rng.normal(size=50)),
    ):
        assert png.startswith(PNG)
        assert len(png) > 1000


def test_curves_need_both_classes() -> None:
    with pytest.raises(ValueError, match="both classes"):
        roc_curve_png(np.array([1, 1]), np.array([0.2, 0.3]))
