"""Loading and validating uploaded datasets, with memory bounded by a chunk of rows, not the file size.

An upload is checked once, when it arrives (`inspect_dataset`), and refused with the rows and reasons
a person can act on: a training job hours later must not be the first to notice a broken line. The
check streams the file: CSV and JSONL line by line (each line decoded strictly as UTF-8, so a bad byte
is reported with its line and offset instead of being silently replaced), Parquet batch by batch, and
rows are validated in chunks of `chunk_rows`. `load_dataset` then reads a checked file into the frame
the training code expects.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, get_args

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

DatasetFormat = Literal["csv", "jsonl", "parquet"]
Task = Literal["text_classification", "tabular_classification", "tabular_regression"]

MAX_PROBLEMS = 20
_SHOWN_PROBLEMS = 5  # in the message; all of them are in DatasetError.problems
_EXTENSIONS: tuple[tuple[str, DatasetFormat], ...] = (
    (".csv", "csv"),
    (".jsonl", "jsonl"),
    (".ndjson", "jsonl"),
    (".json-lines", "jsonl"),
    (".parquet", "parquet"),
    (".pq", "parquet"),
)
# Python's csv module refuses fields over 128 KiB by default; pandas has no limit, and a long document
# is a legitimate prompt. Raised (never lowered) the first time a CSV is inspected.
_CSV_FIELD_LIMIT = 1 << 26
_INTEGER = re.compile(r"[+-]?\d+")
_INTEGER_FLOAT = re.compile(r"([+-]?\d+)\.0*")
_INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class RowProblem:
    """One reason a dataset was refused."""

    row: int | None  # 1-based data row number (header not counted), None when not row-specific
    column: str | None
    reason: str


class DatasetError(ValueError):
    """Invalid dataset; str(exc) is one human sentence; .problems lists up to 20 RowProblem."""

    def __init__(self, message: str, problems: list[RowProblem] | None = None):
        super().__init__(message)
        self.problems: list[RowProblem] = list(problems or [])[:MAX_PROBLEMS]


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


def detect_format(filename: str) -> DatasetFormat:
    """The format named by the file's extension: .csv, .jsonl/.ndjson/.json-lines or .parquet/.pq."""
    name = filename.strip().lower()
    for extension, fmt in _EXTENSIONS:
        if name.endswith(extension):
            return fmt
    raise DatasetError(
        f"Cannot tell the format of {filename!r}: use a .csv, .jsonl (or .ndjson) or .parquet (or .pq) file."
    )


def file_sha256(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of the file's bytes, read `chunk_bytes` at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


# --- what to check ------------------------------------------------------------------------------------


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


# --- label and text values ----------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _label_key(value: Any) -> str | None:
    """A label as the str used to count classes: integer-like values (1, "1", 1.0, " 1 ") all become "1".

    None when missing; raises TypeError for values that cannot be labels (lists, objects).
    """
    if _is_missing(value):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            return str(int(text))
        whole = _INTEGER_FLOAT.fullmatch(text)
        return str(int(whole.group(1))) if whole else text
    if hasattr(value, "item"):  # numpy scalars
        return _label_key(value.item())
    raise TypeError(f"a label must be a string or a number, found {type(value).__name__}")


def _label_number(value: Any) -> float | None:
    """A regression label as a finite float, or None when it is not a number."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _labels_for_training(values: Iterable[Any]) -> pd.Series:
    """Class labels as int64 when every label is integer-like, else as str."""
    keys = [_label_key(value) for value in values]
    if all(key is not None and _INTEGER.fullmatch(key) and abs(int(key)) <= _INT64_MAX for key in keys):
        return pd.Series([int(key) for key in keys if key is not None], dtype="int64")
    return pd.Series(keys, dtype=object)


# --- scanning -----------------------------------------------------------------------------------------


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
    """Collects rows until `size` are waiting, then hands them to the scan as one chunk."""

    def __init__(self, scan: _Scan, size: int):
        self.scan, self.size = scan, max(1, size)
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
        self.rows, self.texts, self.labels = [], [], []


def _describe(problem: RowProblem) -> str:
    return f"row {problem.row}: {problem.reason}" if problem.row is not None else problem.reason


def _raise_problems(problems: list[RowProblem]) -> None:
    count = len(problems)
    stopped = " (checking stopped there)" if count >= MAX_PROBLEMS else ""
    shown = "; ".join(_describe(problem) for problem in problems[:_SHOWN_PROBLEMS])
    more = f"; and {count - _SHOWN_PROBLEMS} more" if count > _SHOWN_PROBLEMS else ""
    raise DatasetError(f"The dataset has {count} problem{'s' if count > 1 else ''}{stopped}: {shown}{more}.", problems)


def inspect_dataset(
    path: Path,
    *,
    fmt: DatasetFormat,
    task: Task = "text_classification",
    text_column: str = "text",
    label_column: str = "label",
    feature_columns: list[str] | None = None,
    chunk_rows: int = 50_000,
) -> DatasetSummary:
    """Validate a dataset file without loading it whole; raise DatasetError with rows and reasons.

    Refused: an empty file or no data rows; missing columns; malformed CSV rows (wrong number of fields,
    broken quoting) and JSONL lines that are not JSON objects; bytes that are not UTF-8; empty text (text
    tasks); missing labels; a single class (classification); non-numeric labels (regression). Scanning
    stops at MAX_PROBLEMS problems.
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


def _decoded_lines(handle: IO[bytes], bad: list[tuple[int, int]]) -> Iterator[str]:
    """The file's lines, decoded strictly; a line that is not UTF-8 is noted in `bad` as (line, byte
    offset of the first bad byte) and passed on decoded with replacement, so scanning can go on."""
    offset = 0
    for number, raw in enumerate(handle, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad.append((number, offset + exc.start))
            line = raw.decode("utf-8", errors="replace")
        if number == 1 and line.startswith("\ufeff"):
            line = line[1:]
        offset += len(raw)
        yield line


def _not_utf8(line: int, offset: int) -> str:
    return f"line {line} is not valid UTF-8 (byte offset {offset})"


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
                chunker = _Chunker(scan, chunk_rows)
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


def _scan_jsonl(
    path: Path,
    *,
    task: Task,
    text_column: str,
    label_column: str,
    feature_columns: list[str] | None,
    chunk_rows: int,
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
                chunker = _Chunker(scan, chunk_rows)
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


def _scan_parquet(
    path: Path,
    *,
    task: Task,
    text_column: str,
    label_column: str,
    feature_columns: list[str] | None,
    chunk_rows: int,
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
    chunker = _Chunker(scan, chunk_rows)
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


# --- loading ------------------------------------------------------------------------------------------


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
