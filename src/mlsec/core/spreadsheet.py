"""CSV cells a spreadsheet can open safely (OWASP "CSV injection").

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab or a carriage return
before one) as a formula: `=HYPERLINK(...)` leaks data, `-2+3+cmd|' /C calc'!A0` starts a program. Every CSV the
platform hands out writes its cells through `safe_cell`, which puts a single quote before such a text, so the
spreadsheet shows it as text instead. Only text is touched: numbers stay numbers, and so does a text that is
just a decimal number (`-1`, `-0.5`, `+3`), which a spreadsheet reads as that number, never as a formula. The
quote is part of the cell for a program that reads the file: formats for programs (JSON lines) stay exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")
_DECIMAL_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def safe_cell(value: object) -> object:
    """The value as a CSV cell a spreadsheet will not run: a text that starts like a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _DECIMAL_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row: Iterable[object]) -> list[object]:
    """Every cell of a CSV row through `safe_cell`."""
    return [safe_cell(value) for value in row]
