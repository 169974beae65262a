"""Scanning a Parquet file: the schema gives the columns and the text column's type, batches give the rows.

Only the text and label columns are read, a batch of `chunk_rows` at a time, so memory stays bounded
whatever the width or length of the file.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from mlsec.ml.datasets.columns import Task, _resolve
from mlsec.ml.datasets.problems import DatasetError
from mlsec.ml.datasets.row_checks import TextsHook, _Chunker, _Scan


def _scan_parquet(
    path: Path,
    *,
    task: Task,
    text_column: str,
    label_column: str,
    feature_columns: list[str] | None,
    chunk_rows: int,
    on_texts: TextsHook | None = None,
) -> tuple[list[str], _Scan]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise DatasetError(f"The file is not a readable Parquet file ({exc}).") from None
    schema = parquet.schema_arrow
    columns = [str(name) for name in schema.names]
    spec = _resolve(
        columns, task=task, text_column=text_column, label_column=label_column, feature_columns=feature_columns
    )
    if spec.text_column is not None:
        kind = schema.field(spec.text_column).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)):
            raise DatasetError(f"The text column {spec.text_column!r} must hold strings, it holds {kind}.")
    scan = _Scan(spec)
    chunker = _Chunker(scan, chunk_rows, on_texts)
    wanted = [name for name in (spec.text_column, spec.label_column) if name is not None]
    try:
        for batch in parquet.iter_batches(batch_size=max(1, chunk_rows), columns=wanted):
            labels = batch.column(spec.label_column).to_pylist()
            texts = batch.column(spec.text_column).to_pylist() if spec.text_column is not None else [None] * len(labels)
            for text, label in zip(texts, labels, strict=True):
                scan.rows += 1
                chunker.add(scan.rows, text, label)
            if scan.full:
                break
        chunker.flush()
    except pa.ArrowException as exc:
        raise DatasetError(f"The Parquet file could not be read after row {scan.rows} ({exc}).") from None
    if not scan.full:
        scan.rows = parquet.metadata.num_rows
    return columns, scan
