"""Label values as checking and training see them: missing or not, a class key, a regression number.

One definition for both, so that the classes an inspection counts are the classes training gets:
integer-like labels (1, "1", 1.0, " 1 ") are one class whatever the file format wrote.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

_INTEGER = re.compile(r"[+-]?\d+")
_INTEGER_FLOAT = re.compile(r"([+-]?\d+)\.0*")
_INT64_MAX = 2**63 - 1


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
