"""Exact integer codes of a vectoriser's vocabulary, looked up in a hash table over every n-gram window.

Each term's symbols are the digits of a positional number, so codes are exact (no hashing collisions)
and the n-grams of a whole batch are coded with NumPy in one pass per n-gram length.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pandas._libs.hashtable import Int64HashTable  # pandas' khash table: public since 0.x, typed

from mlsec.ml.compiled_text.errors import NotCompilableError


@dataclass(frozen=True)
class _TermTable:
    """Exact integer codes of a vectoriser's vocabulary, with a hash index from code to column."""

    index: Int64HashTable  # int64 code -> position in `columns`; -1 for a code that is no term
    columns: np.ndarray[Any, np.dtype[np.int64]]  # column of each code, aligned with `index`
    base: int  # digits are 1..base-1; 0 marks a symbol outside the vocabulary

    def lookup(self, units: np.ndarray[Any, Any], min_n: int, max_n: int) -> tuple[np.ndarray[Any, Any], ...]:
        """(start position, column) of every window of `min_n`..`max_n` units whose code is a term.

        A window holding a 0 (an unknown symbol or a separator) is never a term; its code would alias a
        shorter term's, so such windows are masked out before the lookup.
        """
        length = len(units)
        unknown = np.concatenate(([0], np.cumsum(units == 0)))
        codes = np.zeros(length, dtype=np.int64)
        starts: list[np.ndarray[Any, Any]] = []
        columns: list[np.ndarray[Any, Any]] = []
        for n in range(1, max_n + 1):
            windows = length - n + 1
            if windows <= 0:
                break
            codes = codes[:windows] * self.base + units[n - 1 : n - 1 + windows]
            if n < min_n:
                continue
            candidates = np.flatnonzero(unknown[n : n + windows] == unknown[:windows])
            found = self.index.lookup(codes[candidates])
            hit = found >= 0
            starts.append(candidates[hit])
            columns.append(self.columns[found[hit]])
        if not starts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        return np.concatenate(starts), np.concatenate(columns)


def _term_table(codes: Iterable[int], columns: Iterable[int], base: int) -> _TermTable:
    keys = np.fromiter(codes, dtype=np.int64)
    if len(np.unique(keys)) != len(keys):  # cannot happen with exact codes; refuse rather than answer wrongly
        raise NotCompilableError("vocabulary codes are not unique")
    index = Int64HashTable(len(keys))
    index.map_locations(keys)
    return _TermTable(index=index, columns=np.fromiter(columns, dtype=np.int64), base=base)


def _positional_code(digits: Sequence[int], base: int) -> int:
    code = 0
    for digit in digits:
        code = code * base + digit
    return code
