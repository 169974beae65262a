"""Loading a dataset that inspection accepted into the frame training expects.

Apart from inspection because it answers another question: not "is this file usable?" but "what does
training get?" (text and label, or the feature columns and label, with labels typed for the task).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from mlsec.ml.datasets.columns import Task
from mlsec.ml.datasets.files import DatasetFormat
from mlsec.ml.datasets.labels import _label_number, _labels_for_training


def load_dataset(
    path: Path,
    *,
    fmt: DatasetFormat,
    task: Task = "text_classification",
    text_column: str = "text",
    label_column: str = "label",
    feature_columns: list[str] | None = None,
) -> pd.DataFrame:
    """Read a dataset `inspect_dataset` accepted into the frame training expects.

    Text tasks: exactly the columns `text` (str) and `label`. Tabular tasks: the feature columns (all but
    the label when not given) and `label`. Class labels are int when every label is integer-like, else
    str; regression labels are float.
    """
    tabular = task != "text_classification"
    if not tabular:
        frame = _read(path, fmt, [text_column, label_column], text_columns={text_column}, label_column=label_column)
        texts = frame[text_column].astype(str).reset_index(drop=True)
        return pd.DataFrame({"text": texts, "label": _labels_for_training(frame[label_column])})
    columns = feature_columns
    if columns is None:
        columns = [name for name in _columns_of(path, fmt) if name != label_column]
    frame = _read(path, fmt, [*columns, label_column], text_columns=set(), label_column=label_column)
    result = frame[list(columns)].reset_index(drop=True)
    if task == "tabular_regression":
        result["label"] = pd.Series([_label_number(value) for value in frame[label_column]], dtype="float64")
    else:
        result["label"] = _labels_for_training(frame[label_column])
    return result


def _columns_of(path: Path, fmt: DatasetFormat) -> list[str]:
    """Every column of the file, in order; for JSONL the keys of all rows, in order of appearance."""
    if fmt == "csv":
        return [str(name) for name in pd.read_csv(path, nrows=0, encoding="utf-8").columns]
    if fmt == "parquet":
        return [str(name) for name in pq.ParquetFile(path).schema_arrow.names]
    columns: dict[str, None] = {}
    for record in _json_records(path):
        columns.update(dict.fromkeys(record))
    return list(columns)


def _json_records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8-sig") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _read(path: Path, fmt: DatasetFormat, columns: list[str], *, text_columns: set[str], label_column: str) -> Any:
    """The named columns as a DataFrame; CSV text and label cells are kept as written (no NA guessing)."""
    if fmt == "csv":
        keep = dict.fromkeys((*text_columns, label_column), str)
        return pd.read_csv(path, usecols=columns, converters=keep, encoding="utf-8")[columns]
    if fmt == "parquet":
        return pq.read_table(path, columns=columns).to_pandas()
    wanted = list(dict.fromkeys(columns))
    rows = ([record.get(name) for name in wanted] for record in _json_records(path))
    return pd.DataFrame.from_records(list(rows), columns=wanted)
