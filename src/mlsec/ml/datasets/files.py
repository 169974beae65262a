"""What a dataset file is before its contents are read: its format, told by its extension, and its SHA-256.

The upload service names the format from the file name as soon as it arrives, and fingerprints the bytes
so that a dataset is known by its content; neither needs the rows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from mlsec.ml.datasets.problems import DatasetError

DatasetFormat = Literal["csv", "jsonl", "parquet"]


_EXTENSIONS: tuple[tuple[str, DatasetFormat], ...] = (
    (".csv", "csv"),
    (".jsonl", "jsonl"),
    (".ndjson", "jsonl"),
    (".json-lines", "jsonl"),
    (".parquet", "parquet"),
    (".pq", "parquet"),
)


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
