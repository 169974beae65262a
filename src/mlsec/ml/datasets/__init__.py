"""Loading and validating uploaded datasets, with memory bounded by a chunk of rows, not the file size.

An upload is checked once, when it arrives (`inspect_dataset`), and refused with the rows and reasons
a person can act on: a training job hours later must not be the first to notice a broken line. The
check streams the file: CSV and JSONL line by line (each line decoded strictly as UTF-8, so a bad byte
is reported with its line and offset instead of being silently replaced), Parquet batch by batch, and
rows are validated in chunks of `chunk_rows`. `load_dataset` then reads a checked file into the frame
the training code expects.

One module per job: `files` (format, fingerprint), `columns` (what a task needs), `labels` (label values),
`row_checks` (what a row must pass), one scanner per format, `inspection` (the entry point), `loading` and
`rewriting` (a file again without some rows: erasure).
"""

from __future__ import annotations

from mlsec.ml.datasets.columns import Task
from mlsec.ml.datasets.files import DatasetFormat, detect_format, file_sha256
from mlsec.ml.datasets.inspection import DatasetSummary, inspect_dataset
from mlsec.ml.datasets.loading import load_dataset
from mlsec.ml.datasets.problems import MAX_PROBLEMS, DatasetError, RowProblem
from mlsec.ml.datasets.rewriting import RemovedRows, write_without_rows
from mlsec.ml.datasets.row_checks import TextsHook

__all__ = [
    "MAX_PROBLEMS",
    "DatasetError",
    "DatasetFormat",
    "DatasetSummary",
    "RemovedRows",
    "RowProblem",
    "Task",
    "TextsHook",
    "detect_format",
    "file_sha256",
    "inspect_dataset",
    "load_dataset",
    "write_without_rows",
]
