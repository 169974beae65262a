"""The decision threshold of a binary classifier, chosen on a validation split of the training part.

Never on the test rows, whose metrics would otherwise flatter the model: a clone is fitted on part of
the training rows and the F1-best threshold chosen on the rest; the final model is then refit on all of
them and evaluated once on the test rows at that threshold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from mlsec.ml.evaluation import choose_threshold

VALIDATION_FRACTION = 0.2  # of the training part, held back to choose the threshold


def _can_hold_out(labels: np.ndarray[Any, Any], folds: int) -> bool:
    """Whether a stratified validation split leaves every class enough rows on both sides."""
    counts = pd.Series(labels).value_counts()
    return bool(counts.min() * (1 - VALIDATION_FRACTION) >= max(folds, 2) and counts.min() * VALIDATION_FRACTION >= 1)


def _validation_threshold(template: Any, x: Any, y: np.ndarray[Any, Any], *, positive: Any, seed: int) -> float:
    """Fit a clone of `template` on 80% of (x, y), stratified and seeded, and choose the F1-best threshold
    on P(positive) over the other 20%."""
    indices = np.arange(y.shape[0])
    fit_rows, validation_rows = train_test_split(indices, test_size=VALIDATION_FRACTION, random_state=seed, stratify=y)
    model = clone(template).fit(_rows(x, fit_rows), y[fit_rows])
    column = list(model.classes_).index(positive)
    scores = model.predict_proba(_rows(x, validation_rows))[:, column]
    return choose_threshold((y[validation_rows] == positive).astype(int), scores)


def _rows(x: Any, indices: np.ndarray[Any, Any]) -> Any:
    return x.iloc[indices] if isinstance(x, pd.DataFrame) else x[indices]
