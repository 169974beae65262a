"""A text file's lines decoded strictly as UTF-8, noting each bad line and byte offset instead of failing.

CSV and JSONL are both read line by line; a bad byte must be reported with where it is, and scanning must
go on past it to find the other problems a person will want to fix in the same pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO


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
