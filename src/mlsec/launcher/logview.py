"""Renders a service's JSON log line as one short, human line for the terminal."""

from __future__ import annotations

import json

SERVICE_COLOURS = (
    "cyan",
    "green",
    "magenta",
    "yellow",
    "blue",
    "bright_cyan",
    "bright_green",
    "bright_magenta",
    "bright_yellow",
    "bright_blue",
)
_HIDDEN_FIELDS = frozenset({"ts", "level", "service", "logger", "event", "exc_info", "stack", "color_message"})


def colour_for(index: int) -> str:
    return SERVICE_COLOURS[index % len(SERVICE_COLOURS)]


def render_line(raw: str) -> str:
    """`12:00:01 INFO  http.request method=GET status=200` from a JSON line; other lines as they are."""
    line = raw.rstrip("\n")
    if not line.startswith("{"):
        return line
    try:
        entry = json.loads(line)
    except ValueError:
        return line
    if not isinstance(entry, dict):
        return line
    clock = str(entry.get("ts", ""))[11:19]
    fields = " ".join(f"{key}={value}" for key, value in entry.items() if key not in _HIDDEN_FIELDS)
    return f"{clock} {entry.get('level', ''):<5} {entry.get('event', '')} {fields}".rstrip()


class LineSplitter:
    """Splits a child's output stream into lines, cutting any line longer than `max_bytes`.

    A process that prints one enormous line must neither exhaust the supervisor's memory nor stop
    its log from flowing: the line is cut at the limit, marked, and the rest of it discarded.
    """

    MARK = b" [mlsec: line cut at the log line limit]"

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._pending = b""
        self._discarding = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """The complete lines (without newline) that this chunk finishes."""
        lines: list[bytes] = []
        *complete, self._pending = (self._pending + chunk).split(b"\n")
        for line in complete:
            if self._discarding:
                self._discarding = False
                continue
            lines.append(line if len(line) <= self.max_bytes else line[: self.max_bytes] + self.MARK)
        if len(self._pending) > self.max_bytes:
            if not self._discarding:
                lines.append(self._pending[: self.max_bytes] + self.MARK)
            self._pending = b""
            self._discarding = True
        return lines

    def close(self) -> list[bytes]:
        """Whatever was left without a final newline."""
        rest, self._pending = self._pending, b""
        return [rest] if rest and not self._discarding else []
