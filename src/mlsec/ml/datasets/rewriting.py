"""Writing a dataset file again without some of its rows: what erasing a person from a dataset does to its file.

The file keeps its format and, for CSV and JSONL, the exact bytes of every row it keeps (quoting, line endings,
a byte-order mark): only the removed records are left out. Rows are numbered as inspection numbers them, from 0
here: data records in file order, blank lines skipped (CSV and JSONL), so an index stored at upload points at the
same row when the file is rewritten. The file must be one that inspection accepted.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from mlsec.ml.datasets.files import DatasetFormat
from mlsec.ml.datasets.labels import _label_key
from mlsec.ml.datasets.scan_csv import _CSV_FIELD_LIMIT, _header

_BATCH_ROWS = 65_536


@dataclass
class RemovedRows:
    """What left the file: how many rows, their labels counted as inspection counts them, their text cells
    (for text tasks), so that the dataset's counts can be brought up to date without reading the file again."""

    rows: int = 0
    label_counts: Counter[str] = field(default_factory=Counter)
    texts: list[str] = field(default_factory=list)

    def add(self, text: Any, label: Any) -> None:
        self.rows += 1
        try:
            key = _label_key(label)
        except TypeError:
            key = None
        if key is not None:
            self.label_counts[key] += 1
        if isinstance(text, str):
            self.texts.append(text)


def write_without_rows(
    source: Path,
    target: Path,
    *,
    fmt: DatasetFormat,
    remove: Collection[int],
    text_column: str | None,
    label_column: str,
) -> RemovedRows:
    """Write `source` to `target` without the data rows whose indexes (from 0) are in `remove`."""
    writer = {"csv": _csv, "jsonl": _jsonl, "parquet": _parquet}[fmt]
    return writer(source, target, frozenset(remove), text_column, label_column)


def _lines(handle: IO[bytes], raw: list[bytes]) -> Iterator[str]:
    """The decoded lines (byte-order mark dropped, as inspection does), each one's bytes kept in `raw`."""
    for number, line in enumerate(handle):
        raw.append(line)
        text = line.decode("utf-8")
        yield text[1:] if number == 0 and text.startswith("\ufeff") else text


def _csv(source: Path, target: Path, remove: frozenset[int], text_column: str | None, label_column: str) -> RemovedRows:
    """A record's raw lines are exactly what the csv reader consumed for it: it never reads ahead."""
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    removed = RemovedRows()
    raw: list[bytes] = []
    positions: tuple[int | None, int] | None = None  # of the text and the label, once the header is read
    index = -1
    with source.open("rb") as handle, target.open("wb") as out:
        for record in csv.reader(_lines(handle, raw), strict=True):
            lines = b"".join(raw)
            raw.clear()
            if record and positions is None:
                columns = _header(record)
                text_at = columns.index(text_column) if text_column is not None else None
                positions = (text_at, columns.index(label_column))
            elif record and positions is not None:
                index += 1
                if index in remove:
                    text_at, label_at = positions
                    removed.add(record[text_at] if text_at is not None else None, record[label_at])
                    continue
            out.write(lines)
    return removed


def _jsonl(
    source: Path, target: Path, remove: frozenset[int], text_column: str | None, label_column: str
) -> RemovedRows:
    removed = RemovedRows()
    raw: list[bytes] = []
    index = -1
    with source.open("rb") as handle, target.open("wb") as out:
        for line in _lines(handle, raw):
            if line.strip():
                index += 1
                if index in remove:
                    value = json.loads(line)
                    removed.add(value.get(text_column) if text_column is not None else None, value.get(label_column))
                    raw.clear()
                    continue
            out.write(raw.pop())
    return removed


def _parquet(
    source: Path, target: Path, remove: frozenset[int], text_column: str | None, label_column: str
) -> RemovedRows:
    removed = RemovedRows()
    parquet = pq.ParquetFile(source)
    offset = 0
    with pq.ParquetWriter(target, parquet.schema_arrow) as writer:
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS):
            gone = [i for i in range(batch.num_rows) if offset + i in remove]
            offset += batch.num_rows
            if gone:
                _collect(batch, gone, text_column, label_column, removed.add)
                dropped = set(gone)
                batch = batch.filter(pa.array([i not in dropped for i in range(batch.num_rows)]))
            writer.write_batch(batch)
    return removed


def _collect(
    batch: pa.RecordBatch, rows: list[int], text_column: str | None, label_column: str, add: Callable[..., None]
) -> None:
    labels = batch.column(label_column).take(rows).to_pylist()
    texts = batch.column(text_column).take(rows).to_pylist() if text_column is not None else [None] * len(rows)
    for text, label in zip(texts, labels, strict=True):
        add(text, label)
