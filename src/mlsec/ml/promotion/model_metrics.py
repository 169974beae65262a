"""Held-out metrics of one model for the positive class, with the confusion counts behind them.

The decision keeps these for both models beside the tests, so the evidence shows the plain numbers too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mlsec.ml.promotion.significance import _f1


@dataclass(frozen=True)
class ModelMetrics:
    """Held-out metrics of one model, for the positive class, with the confusion counts behind them."""

    accuracy: float
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int
    tn: int

    @classmethod
    def of(cls, truth: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any], positive: str) -> ModelMetrics:
        actual, flagged = truth == positive, predicted == positive
        tp, fp = int(np.count_nonzero(actual & flagged)), int(np.count_nonzero(~actual & flagged))
        fn, tn = int(np.count_nonzero(actual & ~flagged)), int(np.count_nonzero(~actual & ~flagged))
        precision, recall = (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)
        accuracy = (tp + tn) / truth.shape[0]
        return cls(accuracy, precision, recall, float(_f1(tp, fp, fn)), tp, fp, fn, tn)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
