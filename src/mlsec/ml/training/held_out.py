"""A classifier's evaluation on held-out rows: metrics, report, confusion matrix and plots.

Text and tabular classifiers are judged the same way, binary at their threshold and multi-class by
argmax, and the report is made plain Python so that it can be stored as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report, confusion_matrix

from mlsec.ml.evaluation import (
    binary_metrics,
    confusion_matrix_png,
    multiclass_metrics,
    pr_curve_png,
    roc_curve_png,
)


def _plain(value: Any) -> Any:
    """numpy scalars inside a nested report made plain Python, so it is JSON-serialisable."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class _Evaluation:
    metrics: dict[str, float]
    report: dict[str, Any]
    matrix: list[list[int]]
    plots: dict[str, bytes]


def _evaluate_classifier(
    y_true: pd.Series, proba: np.ndarray[Any, Any], classes: np.ndarray[Any, Any], threshold: float | None
) -> _Evaluation:
    """Held-out metrics, report, confusion matrix and plots; binary at `threshold`, else by argmax."""
    truth = y_true.to_numpy()
    names = [str(label) for label in classes]
    plots: dict[str, bytes] = {}
    if threshold is not None:
        scores = proba[:, 1]
        positives = (truth == classes[1]).astype(int)
        metrics = binary_metrics(positives, scores, threshold)
        predicted = np.where(scores >= threshold, classes[1], classes[0])
        if 0 < positives.sum() < positives.size:
            plots["roc_curve.png"] = roc_curve_png(positives, scores)
            plots["pr_curve.png"] = pr_curve_png(positives, scores)
    else:
        predicted = classes[np.argmax(proba, axis=1)]
        metrics = multiclass_metrics(truth, predicted, proba, list(classes))
    truth_names = [str(label) for label in truth]
    predicted_names = [str(label) for label in predicted]
    report = classification_report(truth_names, predicted_names, labels=names, output_dict=True, zero_division=0)
    matrix = confusion_matrix(truth_names, predicted_names, labels=names)
    plots = {"confusion_matrix.png": confusion_matrix_png(matrix, names), **plots}
    return _Evaluation(metrics, _plain(report), [[int(cell) for cell in row] for row in matrix], plots)
