"""Inspecting an upload once, when it arrives: the format's scanner, the whole-file checks, the summary.

This is the entry point the upload service calls; it refuses an unusable file with the rows and reasons a
person can act on, so that a training job hours later is never the first to notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from mlsec.ml.datasets.columns import Task
from mlsec.ml.datasets.files import DatasetFormat, file_sha256
from mlsec.ml.datasets.problems import DatasetError, _raise_problems
from mlsec.ml.datasets.row_checks import TextsHook
from mlsec.ml.datasets.scan_csv import _scan_csv
from mlsec.ml.datasets.scan_jsonl import _scan_jsonl
from mlsec.ml.datasets.scan_parquet import _scan_parquet


@dataclass(frozen=True)
class DatasetSummary:
    """What inspecting a valid dataset found."""

    format: DatasetFormat
    rows: int
    columns: list[str]
    text_column: str | None  # None for tabular tasks
    label_column: str
    label_counts: dict[str, int]  # for classification tasks (labels as str); {} for regression
    sha256: str  # of the file bytes
    size_bytes: int


def inspect_dataset(
    path: Path,
    *,
    fmt: DatasetFormat,
    task: Task = "text_classification",
    text_column: str = "text",
    label_column: str = "label",
    feature_columns: list[str] | None = None,
    chunk_rows: int = 50_000,
    on_texts: TextsHook | None = None,
) -> DatasetSummary:
    """Validate a dataset file without loading it whole; raise DatasetError with rows and reasons.

    Refused: an empty file or no data rows; missing columns; malformed CSV rows (wrong number of fields,
    broken quoting) and JSONL lines that are not JSON objects; bytes that are not UTF-8; empty text (text
    tasks); missing labels; a single class (classification); non-numeric labels (regression). Scanning
    stops at MAX_PROBLEMS problems.

    `on_texts`, for text tasks, sees every chunk of checked rows (row numbers from 1, their text cells) as the
    scan streams past, in the calling thread, until the first problem is found.
    """
    size = path.stat().st_size
    if size == 0:
        raise DatasetError("The file is empty.")
    if fmt not in get_args(DatasetFormat):
        raise DatasetError(f"Unknown format {fmt!r}: use one of {', '.join(get_args(DatasetFormat))}.")
    scanner = {"csv": _scan_csv, "jsonl": _scan_jsonl, "parquet": _scan_parquet}[fmt]
    columns, scan = scanner(
        path,
        task=task,
        text_column=text_column,
        label_column=label_column,
        feature_columns=feature_columns,
        chunk_rows=chunk_rows,
        on_texts=on_texts,
    )
    scan.finish()
    if scan.problems:
        _raise_problems(scan.problems)
    return DatasetSummary(
        format=fmt,
        rows=scan.rows,
        columns=columns,
        text_column=scan.spec.text_column,
        label_column=label_column,
        label_counts=dict(sorted(scan.label_counts.items())) if scan.spec.classification else {},
        sha256=file_sha256(path),
        size_bytes=size,
    )
