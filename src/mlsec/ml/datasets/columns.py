"""The columns a task needs, resolved against the columns a file has, before any row is read.

Scanning and loading both start from the same resolution, so a missing or misused column is refused
once, by name, with the columns the file does have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from mlsec.ml.datasets.problems import DatasetError, RowProblem

Task = Literal["text_classification", "tabular_classification", "tabular_regression"]


@dataclass(frozen=True)
class _Spec:
    """The columns a task needs, resolved against the columns a file has."""

    task: Task
    text_column: str | None
    label_column: str
    feature_columns: list[str]

    @property
    def classification(self) -> bool:
        return self.task != "tabular_regression"

    @property
    def needed(self) -> list[str]:
        if self.text_column is not None:
            return [self.text_column, self.label_column]
        return [*self.feature_columns, self.label_column]


def _resolve(
    columns: list[str], *, task: Task, text_column: str, label_column: str, feature_columns: list[str] | None
) -> _Spec:
    """Check that the needed columns exist; raise DatasetError naming the missing ones and those found."""
    if task not in get_args(Task):
        raise DatasetError(f"Unknown task {task!r}: use one of {', '.join(get_args(Task))}.")
    tabular = task != "text_classification"
    required = [label_column] if tabular else [text_column, label_column]
    if tabular and feature_columns is not None:
        required = [*feature_columns, label_column]
    missing = [name for name in dict.fromkeys(required) if name not in columns]
    if missing:
        found = ", ".join(repr(name) for name in columns) or "none"
        raise DatasetError(
            f"Missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(name) for name in missing)}; "
            f"the file has columns: {found}.",
            [RowProblem(None, name, "column not found") for name in missing],
        )
    if not tabular:
        if text_column == label_column:
            raise DatasetError(f"The text and label columns must differ, both are {text_column!r}.")
        return _Spec(task, text_column, label_column, [])
    features = list(feature_columns) if feature_columns is not None else [c for c in columns if c != label_column]
    if label_column in features:
        raise DatasetError(f"The label column {label_column!r} cannot also be a feature column.")
    if len(set(features)) != len(features):
        raise DatasetError("The feature columns list a column more than once.")
    if not features:
        raise DatasetError(f"The file has no feature columns besides the label {label_column!r}.")
    if label_column != "label" and "label" in features:
        raise DatasetError(
            f"A feature column is named 'label', which is reserved for the label ({label_column!r}); rename it."
        )
    return _Spec(task, None, label_column, features)
