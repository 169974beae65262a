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
