"""Uploaded tables for drift checks: CSV or Parquet, read into columns with pandas (pyarrow for Parquet).

The format is told by the file's first bytes (Parquet starts with `PAR1`), not trusted from its name.
"""

from __future__ import annotations

from typing import IO, Any

import pandas as pd

from mlsec.core.errors import InvalidInputError, PayloadTooLargeError

PARQUET_MAGIC = b"PAR1"


def read_table(handle: IO[bytes], *, side: str, limit: int) -> pd.DataFrame:
    """A DataFrame from an uploaded file; 413 over `limit` bytes, 422 when it is neither CSV nor Parquet."""
    handle.seek(0, 2)
    size = handle.tell()
    if size > limit:
        raise PayloadTooLargeError(
            f"the {side} file has {size} bytes; the limit is {limit} (MLSEC_ANALYTICS_MAX_UPLOAD_BYTES)",
            details={"side": side, "limit_bytes": limit},
        )
    handle.seek(0)
    magic = handle.read(4)
    handle.seek(0)
    try:
        frame = pd.read_parquet(handle) if magic == PARQUET_MAGIC else pd.read_csv(handle)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InvalidInputError(
            f"the {side} file is neither a readable CSV nor Parquet file ({type(exc).__name__})",
            details={"side": side},
        ) from exc
    if frame.empty:
        raise InvalidInputError(f"the {side} file has no rows", details={"side": side})
    return frame


def columns_of(frame: pd.DataFrame) -> dict[str, Any]:
    """Column name -> values (NumPy arrays; object columns stay objects for categorical features)."""
    return {str(name): frame[name].to_numpy() for name in frame.columns}
