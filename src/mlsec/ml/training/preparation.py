"""Preparing rows for a training run: labels made comparable, the seeded split, the classes, the example.

Text and tabular training share these steps, so both split, stratify and pick their input example the
same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

EXAMPLE_ROWS = 5


def _align_labels(*labels: pd.Series) -> list[pd.Series]:
    """Labels of several frames made comparable: ints stay ints only when every frame has int labels."""
    if all(pd.api.types.is_integer_dtype(series) for series in labels):
        return [series.astype("int64") for series in labels]
    return [series.astype(str) for series in labels]


def _split(frame: pd.DataFrame, test_size: float, seed: int, stratify: pd.Series | None) -> tuple[Any, Any]:
    """A seeded split, stratified when every class has at least two rows (else sklearn cannot)."""
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size}")
    if stratify is not None and stratify.value_counts().min() < 2:
        stratify = None
    first, second = train_test_split(frame, test_size=test_size, random_state=seed, stratify=stratify)
    return first.reset_index(drop=True), second.reset_index(drop=True)


def _example(frame: pd.DataFrame, labels: pd.Series | None) -> pd.DataFrame:
    """Up to EXAMPLE_ROWS rows of `frame`; for classification taken round-robin across classes, so the
    example shows every class the model predicts (a wrapper fitted on it then sees more than one class)."""
    if labels is None or frame.empty:
        return frame.head(EXAMPLE_ROWS).reset_index(drop=True)
    rank = labels.groupby(labels, sort=False).cumcount().to_numpy()
    order = np.lexsort((np.arange(len(frame)), rank))[:EXAMPLE_ROWS]
    return frame.iloc[np.sort(order)].reset_index(drop=True)


def _classes(labels: pd.Series) -> np.ndarray[Any, Any]:
    classes = np.unique(labels.to_numpy())
    if classes.size < 2:
        raise ValueError(f"classification needs at least two classes, found {[str(c) for c in classes]}")
    return classes
