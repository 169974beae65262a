"""Structured JSON logs, one object per line, with the request id of the request being served.

The launcher reads these lines from each service's stdout, writes them to the service's log file
and renders them as one colour-tagged line per event on the terminal.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_request_id: ContextVar[str | None] = ContextVar("mlsec_request_id", default=None)

# Attributes every LogRecord has; anything else was passed through `extra=` and is logged as a field.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's ANSI copy of the message
}


# Credentials a URL may carry in its query (a WebSocket client's `?token=`); uvicorn logs the URL.
_QUERY_SECRET = re.compile(r"((?:access_)?token|api_key|apikey|password|secret)=[^&\s\"']+", re.IGNORECASE)


def redact(message: str) -> str:
    """The message with secrets in URL query strings replaced by ***."""
    return _QUERY_SECRET.sub(r"\1=***", message)


def current_request_id() -> str | None:
    """The id of the request this task is serving, if any."""
    return _request_id.get()


def set_request_id(value: str | None) -> object:
    """Bind a request id to the current context; returns a token for `reset_request_id`."""
    return _request_id.set(value)


def reset_request_id(token: object) -> None:
    _request_id.reset(token)  # type: ignore[arg-type]


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, service, event, request id, extra fields."""

    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "event": redact(record.getMessage()),
        }
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every logger of the process (ours, uvicorn's, libraries') to stdout as JSON lines."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "alembic"):
        lib_logger = logging.getLogger(name)
        lib_logger.handlers.clear()
        lib_logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs each request
