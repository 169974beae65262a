"""What the receiver keeps of a span's attributes: nothing that can carry a person's data or a secret, no value
longer than the limit, no more attributes than the limit.

The platform's own services set only routes, statuses, model names and ids (docs/tracing.md), but the receiver
also takes spans from any OpenTelemetry instrumentation a user adds, and those record query strings, client
addresses, user agents, headers, SQL text and end-user ids by default. Those keys are dropped here, before a
span is stored, so no query of the tracing service can ever return them; a full URL keeps its scheme, host
and path, never its query, fragment or user info. Keys are classified once and remembered: a deployment sends
the same few hundred keys over and over.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DROPPED_KEYS = frozenset(
    {
        "url.query",
        "url.fragment",
        "http.target",  # the old conventions' path and query
        "client.address",
        "client.port",
        "client.socket.address",
        "net.peer.ip",
        "net.sock.peer.addr",
        "network.peer.address",
        "http.client_ip",
        "user_agent.original",
        "http.user_agent",
        "db.statement",
        "db.query.text",
        "db.user",
        "messaging.message.body",
        "exception.message",  # an exception's text may quote the request
        "exception.stacktrace",
        "process.command_line",  # command lines and arguments carry tokens and passwords
        "process.command_args",
        "process.owner",
        "session.id",
        "session.previous_id",
    }
)
"""Keys whose value is a person's data (who called, from where, with what) or may hold a secret."""

DROPPED_PREFIXES = (
    "enduser.",
    "user.",
    "http.request.header.",
    "http.response.header.",
    "http.request.body",
    "http.response.body",
    "rpc.request.metadata.",
    "rpc.response.metadata.",
    "db.query.parameter.",
    "db.operation.parameter.",
    "client.geo.",
    "geo.",
    "gen_ai.prompt",
    "gen_ai.completion",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
)
URL_KEYS = frozenset({"url.full", "http.url"})
"""Keys holding a whole URL: kept without query, fragment or user info."""
SECRET_WORDS = frozenset(
    {"password", "passwd", "secret", "token", "authorization", "cookie", "apikey", "credential", "credentials"}
)
"""A key with one of these words among its parts (`db.password`, `my_app.api_key`) is dropped wherever it is."""
MAX_KEY_LENGTH = 256
MAX_LIST_ITEMS = 64
_WORD_SPLIT = re.compile(r"[._\-/\s]+")


class Verdict(Enum):
    KEEP = "keep"
    DROP = "drop"
    URL = "url"


@lru_cache(maxsize=4096)
def classify(key: str) -> Verdict:
    """Whether an attribute key is kept, dropped, or kept as a URL without its query."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return Verdict.DROP
    lowered = key.lower()
    if lowered in DROPPED_KEYS or lowered.startswith(DROPPED_PREFIXES):
        return Verdict.DROP
    words = [word for word in _WORD_SPLIT.split(lowered) if word]
    joined = {a + b for a, b in itertools.pairwise(words)}  # api_key -> apikey, pass_word -> password
    if SECRET_WORDS.intersection(words) or SECRET_WORDS.intersection(joined):
        return Verdict.DROP
    return Verdict.URL if lowered in URL_KEYS else Verdict.KEEP


def strip_url(value: str) -> str:
    """A URL's scheme, host and path only: the query, the fragment and any user:password@ are dropped."""
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
    except ValueError:
        return ""
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


@dataclass
class Redactor:
    """Cleans attribute maps with the deployment's limits; counts what it dropped and truncated."""

    max_attributes: int = 128
    max_value_length: int = 1024
    dropped: int = field(default=0)
    truncated: int = field(default=0)

    def clean(self, items: list[tuple[str, Any]]) -> dict[str, Any]:
        """The kept attributes of (key, value) pairs, in their order, at most `max_attributes` of them."""
        kept: dict[str, Any] = {}
        for key, value in items:
            verdict = classify(key)
            if verdict is Verdict.DROP:
                self.dropped += 1
                continue
            if len(kept) >= self.max_attributes:
                self.dropped += 1
                continue
            if verdict is Verdict.URL and isinstance(value, str):
                value = strip_url(value)
            kept[key] = self.value(value)
        return kept

    def value(self, value: Any) -> Any:
        """A value within the limits: strings truncated, lists shortened, nested maps cleaned like attributes."""
        if isinstance(value, str):
            if len(value) > self.max_value_length:
                self.truncated += 1
                return value[: self.max_value_length]
            return value
        if isinstance(value, list):
            if len(value) > MAX_LIST_ITEMS:
                self.truncated += 1
            return [self.value(item) for item in value[:MAX_LIST_ITEMS]]
        if isinstance(value, dict):
            return self.clean(list(value.items()))
        return value
