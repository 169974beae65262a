"""Scanning a JSONL file: each line one JSON object, its keys the columns, checked in chunks.

The first object tells the columns; lines that are not JSON objects before it are kept and reported
with the rest, so a broken first line does not hide the others.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlsec.ml.datasets.columns import Task, _resolve
from mlsec.ml.datasets.problems import MAX_PROBLEMS, DatasetError, RowProblem, _raise_problems
from mlsec.ml.datasets.row_checks import TextsHook, _Chunker, _Scan
from mlsec.ml.datasets.utf8_lines import _decoded_lines, _not_utf8


def _scan_jsonl(
    path: Path,
    *,
    task: Task,
    text_column: str,
    label_column: str,
    feature_columns: list[str] | None,
    chunk_rows: int,
    on_texts: TextsHook | None = None,
) -> tuple[list[str], _Scan]:
    bad: list[tuple[int, int]] = []
    columns: dict[str, None] = {}
    scan: _Scan | None = None
    chunker: _Chunker | None = None
    pending: list[RowProblem] = []  # problems seen before the first object told us the columns
    rows = 0
    with path.open("rb") as handle:
        for line_number, line in enumerate(_decoded_lines(handle, bad), start=1):
            if not line.strip():
                bad.clear()
                continue
            rows += 1
            problems: list[RowProblem] = [RowProblem(rows, None, _not_utf8(n, offset)) for n, offset in bad]
            bad.clear()
            value: Any = None
            if not problems:
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as exc:
                    problems.append(RowProblem(rows, None, f"line {line_number} is not valid JSON ({exc.msg})"))
                else:
                    if not isinstance(value, dict):
                        found = "array" if isinstance(value, list) else type(value).__name__
                        reason = f"line {line_number} is not a JSON object (found {found})"
                        problems.append(RowProblem(rows, None, reason))
            if scan is None:
                if problems:
                    pending.extend(problems)
                    if len(pending) >= MAX_PROBLEMS:
                        break
                    continue
                spec = _resolve(
                    list(value),
                    task=task,
                    text_column=text_column,
                    label_column=label_column,
                    feature_columns=feature_columns,
                )
                scan = _Scan(spec)
                scan.problems.extend(pending)
                chunker = _Chunker(scan, chunk_rows, on_texts)
            assert chunker is not None
            for problem in problems:
                scan.add(problem.row, problem.column, problem.reason)
            if scan.full:
                break
            if problems:
                continue
            columns.update(dict.fromkeys(value))
            if scan.spec.text_column is None:
                nested = [name for name in scan.spec.feature_columns if isinstance(value.get(name), dict | list)]
                for name in nested:
                    scan.add(rows, name, f"{name!r} holds a nested {type(value[name]).__name__}, not a value")
                chunker.add(rows, None, value.get(label_column))
            else:
                chunker.add(rows, value.get(text_column), value.get(label_column))
        if chunker is not None:
            chunker.flush()
    if scan is None:
        if pending:
            _raise_problems(pending)
        raise DatasetError("The file has no data rows.")
    scan.rows = rows
    return list(columns), scan
