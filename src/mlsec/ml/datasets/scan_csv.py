"""Scanning a CSV file: the header resolved to columns, then each record's text and label checked in chunks.

Python's csv module (strict quoting) reads the stream line by line, so a malformed record is reported
with its line, and the file is never loaded whole.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from mlsec.ml.datasets.columns import Task, _resolve
from mlsec.ml.datasets.problems import DatasetError, RowProblem
from mlsec.ml.datasets.row_checks import TextsHook, _Chunker, _Scan
from mlsec.ml.datasets.utf8_lines import _decoded_lines, _not_utf8

# Python's csv module refuses fields over 128 KiB by default; pandas has no limit, and a long document
# is a legitimate prompt. Raised (never lowered) the first time a CSV is inspected.
_CSV_FIELD_LIMIT = 1 << 26


def _header(record: list[str]) -> list[str]:
    """Column names as pandas names them: an empty name becomes "Unnamed: <position>"."""
    return [name if name else f"Unnamed: {position}" for position, name in enumerate(record)]


def _scan_csv(
    path: Path,
    *,
    task: Task,
    text_column: str,
    label_column: str,
    feature_columns: list[str] | None,
    chunk_rows: int,
    on_texts: TextsHook | None = None,
) -> tuple[list[str], _Scan]:
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    bad: list[tuple[int, int]] = []
    columns: list[str] | None = None
    scan: _Scan | None = None
    chunker: _Chunker | None = None
    positions: tuple[int, int | None] = (0, None)
    with path.open("rb") as handle:
        reader = csv.reader(_decoded_lines(handle, bad), strict=True)
        previous_line = 0
        while scan is None or not scan.full:
            try:
                record = next(reader)
                error = None
            except StopIteration:
                break
            except csv.Error as exc:
                record, error = [], str(exc)
            start, previous_line = previous_line + 1, reader.line_num
            if not record and error is None:
                continue  # blank line, skipped as pandas does
            if columns is None:
                if error is not None or bad:
                    line = bad[0][0] if bad else start
                    reason = _not_utf8(*bad[0]) if bad else f"line {line} is not valid CSV ({error})"
                    raise DatasetError(f"The header is unreadable: {reason}.", [RowProblem(None, None, reason)])
                columns = _header(record)
                duplicates = sorted(name for name, count in Counter(columns).items() if count > 1)
                if duplicates:
                    raise DatasetError(f"The header repeats column names: {', '.join(map(repr, duplicates))}.")
                spec = _resolve(
                    columns,
                    task=task,
                    text_column=text_column,
                    label_column=label_column,
                    feature_columns=feature_columns,
                )
                scan = _Scan(spec)
                chunker = _Chunker(scan, chunk_rows, on_texts)
                text_at = columns.index(spec.text_column) if spec.text_column is not None else None
                positions = (columns.index(label_column), text_at)
                continue
            assert scan is not None
            assert chunker is not None
            scan.rows += 1
            row = scan.rows
            for line, offset in bad:
                scan.add(row, None, _not_utf8(line, offset))
            bad.clear()
            if error is not None:
                scan.add(row, None, f"line {start} is not valid CSV ({error})")
            elif len(record) != len(columns):
                scan.add(row, None, f"line {start} has {len(record)} fields, expected {len(columns)}")
            else:
                label_at, text_at = positions
                chunker.add(row, record[text_at] if text_at is not None else None, record[label_at])
        if chunker is not None:
            chunker.flush()
    if columns is None or scan is None:
        raise DatasetError("The file has no header and no data rows.")
    return columns, scan
