"""The checks every data row must pass, applied chunk by chunk as a scanner streams the rows past.

Scanners differ in how they read a format; what makes a row acceptable (text present, a usable label,
at least two classes) does not, so it lives here once and memory stays bounded by one chunk of rows.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlsec.ml.datasets.columns import _Spec
from mlsec.ml.datasets.labels import _label_key, _label_number
from mlsec.ml.datasets.problems import MAX_PROBLEMS, DatasetError, RowProblem

TextsHook = Callable[[list[int], list[Any]], None]
"""Called with each chunk of checked rows of a text task: their numbers (from 1) and their text cells."""


@dataclass
class _Scan:
    """What inspecting learns as rows stream past; stops being fed once MAX_PROBLEMS are found."""

    spec: _Spec
    rows: int = 0
    label_counts: Counter[str] = field(default_factory=Counter)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS

    def add(self, row: int | None, column: str | None, reason: str) -> None:
        if not self.full:
            self.problems.append(RowProblem(row, column, reason))

    def check_chunk(self, rows: list[int], texts: list[Any] | None, labels: list[Any]) -> None:
        """Validate one chunk of rows: `rows` are their numbers, `texts` None for tabular tasks."""
        spec = self.spec
        for index, row in enumerate(rows):
            if self.full:
                return
            if texts is not None:
                text = texts[index]
                if text is None or (isinstance(text, float) and math.isnan(text)):
                    self.add(row, spec.text_column, "text is missing")
                elif not isinstance(text, str):
                    self.add(row, spec.text_column, f"text must be a string, found {type(text).__name__}")
                elif not text.strip():
                    self.add(row, spec.text_column, "text is empty")
            label = labels[index]
            try:
                key = _label_key(label)
            except TypeError as exc:
                self.add(row, spec.label_column, str(exc))
                continue
            if key is None:
                self.add(row, spec.label_column, "label is missing")
            elif spec.classification:
                self.label_counts[key] += 1
            elif _label_number(label) is None:
                self.add(row, spec.label_column, f"label {label!r} is not a number")

    def finish(self) -> None:
        """Checks that need every row: at least one row, at least two classes (counted only when every
        row was readable, or the count could mislead)."""
        if self.problems:
            return
        if self.rows == 0:
            raise DatasetError("The file has no data rows.")
        if self.spec.classification and len(self.label_counts) == 1:
            (only,) = self.label_counts
            self.add(
                None,
                self.spec.label_column,
                f"label column {self.spec.label_column!r} needs at least two classes, found only {only!r}",
            )


class _Chunker:
    """Collects rows until `size` are waiting, then hands them to the scan as one chunk, and to `on_texts`
    (another pass over the same rows, such as a PII scan, without reading the file twice) while the file
    has no problem: a refused file is not worth scanning further."""

    def __init__(self, scan: _Scan, size: int, on_texts: TextsHook | None = None):
        self.scan, self.size, self.on_texts = scan, max(1, size), on_texts
        self.rows: list[int] = []
        self.texts: list[Any] = []
        self.labels: list[Any] = []

    def add(self, row: int, text: Any, label: Any) -> None:
        self.rows.append(row)
        self.texts.append(text)
        self.labels.append(label)
        if len(self.rows) >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            texts = self.texts if self.scan.spec.text_column is not None else None
            self.scan.check_chunk(self.rows, texts, self.labels)
            if self.on_texts is not None and texts is not None and not self.scan.problems:
                self.on_texts(self.rows, texts)
        self.rows, self.texts, self.labels = [], [], []
