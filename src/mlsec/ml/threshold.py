"""Bake a chosen decision threshold into a fitted binary classifier.

The registered model then answers `predict` at the threshold training chose (not sklearn's 0.5),
for our model API and for `mlflow models serve` alike, while `predict_proba` is unchanged.
"""

from __future__ import annotations

from typing import Any

from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import FixedThresholdClassifier


def with_threshold(model: Any, threshold: float, example: Any) -> FixedThresholdClassifier:
    """Wrap a fitted binary classifier so that `predict` uses `threshold` on P(positive class).

    `example` is any input the model accepts; the frozen model is not refit on it.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    wrapped = FixedThresholdClassifier(FrozenEstimator(model), threshold=threshold, response_method="predict_proba")
    return wrapped.fit(example, model.predict(example))
