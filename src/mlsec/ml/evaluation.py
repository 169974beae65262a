"""Held-out metrics and the plots logged with every training run.

Metrics are plain floats keyed by name, so they can be logged to MLflow and compared across runs as they
are; a metric that cannot be computed (ROC-AUC with one class in the test set) is left out rather than
reported as NaN. Plots are rendered with matplotlib's object API and the Agg canvas: no pyplot global
state, safe in worker threads and processes without a display.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    mean_absolute_error,
    precision_recall_curve,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    roc_curve,
    root_mean_squared_error,
)

# A chosen threshold is kept strictly inside (0, 1): FixedThresholdClassifier and our API refuse 0 and 1.
_THRESHOLD_EPS = 1e-6
_FIGSIZE = (5.0, 4.0)
_DPI = 100


def _both_classes(y_true: np.ndarray[Any, Any]) -> bool:
    return bool(np.any(y_true == 1) and np.any(y_true == 0))


def choose_threshold(y_true: np.ndarray[Any, Any], scores: np.ndarray[Any, Any]) -> float:
    """The threshold on P(positive) that maximises F1 on (y_true, scores); y_true is 0/1.

    Every distinct score s on the PR curve stands for the interval of thresholds (previous score, s] that
    all classify alike; among the intervals with the best F1 we return the point closest to 0.5, so that a
    tie between equivalent thresholds keeps the conventional 0.5, and a threshold does not sit exactly on
    a training score when it need not. The result is clipped into (0, 1). With only one class there is
    nothing to optimise and 0.5 is returned.
    """
    y = np.asarray(y_true).astype(int).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError(f"y_true and scores differ in length: {y.shape[0]} != {s.shape[0]}")
    if not _both_classes(y):
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y, s)
    precision, recall = precision[:-1], recall[:-1]  # the last point (recall 0) has no threshold
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(denominator), where=denominator > 0)
    best = np.flatnonzero(np.isclose(f1, f1.max(), rtol=0.0, atol=1e-12))
    distinct = np.unique(s)
    candidates: list[float] = []
    for index in best:
        upper = float(thresholds[index])
        position = int(np.searchsorted(distinct, upper))  # the next lower distinct score bounds the interval
        lower = float(distinct[position - 1]) if position > 0 else -np.inf
        if lower < 0.5 <= upper:
            candidates.append(0.5)
        elif upper < 0.5:
            candidates.append(upper)
        else:  # 0.5 <= lower: the interval is open at `lower`, take its middle
            candidates.append((lower + upper) / 2)
    chosen = min(candidates, key=lambda value: (abs(value - 0.5), value))
    return float(np.clip(chosen, _THRESHOLD_EPS, 1.0 - _THRESHOLD_EPS))


def binary_metrics(y_true: np.ndarray[Any, Any], scores: np.ndarray[Any, Any], threshold: float) -> dict[str, float]:
    """precision, recall, f1, accuracy at `threshold` (positive when score >= threshold), roc_auc and
    pr_auc (average precision) of the scores, and the threshold itself; y_true is 0/1."""
    y = np.asarray(y_true).astype(int).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    predicted = (s >= threshold).astype(int)
    metrics = {
        "precision": float(precision_score(y, predicted, zero_division=0)),
        "recall": float(recall_score(y, predicted, zero_division=0)),
        "f1": float(f1_score(y, predicted, zero_division=0)),
        "accuracy": float(accuracy_score(y, predicted)),
    }
    if _both_classes(y):
        metrics["roc_auc"] = float(roc_auc_score(y, s))
        metrics["pr_auc"] = float(average_precision_score(y, s))
    metrics["threshold"] = float(threshold)
    return metrics


def regression_metrics(y_true: np.ndarray[Any, Any], y_pred: np.ndarray[Any, Any]) -> dict[str, float]:
    """rmse, mae and r2 (r2 left out when y_true is constant, where it is undefined)."""
    y = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    metrics = {"rmse": float(root_mean_squared_error(y, p)), "mae": float(mean_absolute_error(y, p))}
    if y.size >= 2 and np.ptp(y) > 0:
        metrics["r2"] = float(r2_score(y, p))
    return metrics


def multiclass_metrics(
    y_true: np.ndarray[Any, Any],
    y_pred: np.ndarray[Any, Any],
    proba: np.ndarray[Any, Any],
    classes: Sequence[Any],
) -> dict[str, float]:
    """accuracy and macro precision/recall/F1; roc_auc_ovr when every class occurs in y_true.

    `proba` has one column per class, in the order of `classes`; labels are compared as given.
    """
    y = np.asarray(y_true)
    p = np.asarray(y_pred)
    labels = list(classes)
    metrics = {
        "accuracy": float(accuracy_score(y, p)),
        "f1_macro": float(f1_score(y, p, labels=labels, average="macro", zero_division=0)),
        "precision_macro": float(precision_score(y, p, labels=labels, average="macro", zero_division=0)),
        "recall_macro": float(recall_score(y, p, labels=labels, average="macro", zero_division=0)),
    }
    probabilities = np.asarray(proba, dtype=np.float64)
    present = set(np.unique(y).tolist())
    if len(labels) > 2 and present == set(labels) and probabilities.shape == (y.shape[0], len(labels)):
        metrics["roc_auc_ovr"] = float(roc_auc_score(y, probabilities, multi_class="ovr", labels=labels))
    return metrics


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)  # attaches itself to the figure: rendering needs no pyplot and no display
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def confusion_matrix_png(cm: np.ndarray[Any, Any], labels: Sequence[str]) -> bytes:
    """The confusion matrix (rows: true class, columns: predicted) with counts written in the cells."""
    matrix = np.asarray(cm)
    names = [str(label) for label in labels]
    figure = Figure(figsize=_FIGSIZE, dpi=_DPI)
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues", interpolation="nearest")
    figure.colorbar(image, ax=axes)
    ticks = np.arange(len(names))
    axes.set_xticks(ticks, names, rotation=45 if len(names) > 4 else 0, ha="right" if len(names) > 4 else "center")
    axes.set_yticks(ticks, names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title("Confusion matrix")
    if matrix.size and len(names) <= 20:
        middle = matrix.max() / 2 if matrix.max() > 0 else 0
        for (row, column), value in np.ndenumerate(matrix):
            axes.text(
                column,
                row,
                str(int(value)),
                ha="center",
                va="center",
                color="white" if value > middle else "black",
            )
    return _png(figure)


def roc_curve_png(y_true: np.ndarray[Any, Any], scores: np.ndarray[Any, Any]) -> bytes:
    """ROC curve of binary scores (y_true 0/1), with its AUC; needs both classes."""
    y = np.asarray(y_true).astype(int).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if not _both_classes(y):
        raise ValueError("a ROC curve needs both classes in y_true")
    fpr, tpr, _ = roc_curve(y, s)
    figure = Figure(figsize=_FIGSIZE, dpi=_DPI)
    axes = figure.add_subplot()
    axes.plot(fpr, tpr, label=f"AUC = {roc_auc_score(y, s):.3f}")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.set_title("ROC curve")
    axes.legend(loc="lower right")
    return _png(figure)


def pr_curve_png(y_true: np.ndarray[Any, Any], scores: np.ndarray[Any, Any]) -> bytes:
    """Precision-recall curve of binary scores (y_true 0/1), with average precision; needs both classes."""
    y = np.asarray(y_true).astype(int).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if not _both_classes(y):
        raise ValueError("a precision-recall curve needs both classes in y_true")
    precision, recall, _ = precision_recall_curve(y, s)
    figure = Figure(figsize=_FIGSIZE, dpi=_DPI)
    axes = figure.add_subplot()
    axes.step(recall, precision, where="post", label=f"AP = {average_precision_score(y, s):.3f}")
    axes.axhline(float(y.mean()), linestyle="--", color="grey", linewidth=1, label="chance")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_title("Precision-recall curve")
    axes.legend(loc="lower left")
    return _png(figure)


def residuals_png(y_true: np.ndarray[Any, Any], y_pred: np.ndarray[Any, Any]) -> bytes:
    """Residuals (true - predicted) against predictions: structure here means the model misses a pattern."""
    y = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    figure = Figure(figsize=_FIGSIZE, dpi=_DPI)
    axes = figure.add_subplot()
    axes.scatter(p, y - p, s=8, alpha=0.6)
    axes.axhline(0.0, linestyle="--", color="grey", linewidth=1)
    axes.set_xlabel("predicted")
    axes.set_ylabel("residual (true - predicted)")
    axes.set_title("Residuals")
    return _png(figure)
