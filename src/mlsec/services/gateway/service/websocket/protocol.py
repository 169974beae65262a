"""The `/ws` message protocol: what a client may send, how it is checked, what the gateway answers.

Client -> gateway, JSON text frames of at most MAX_MESSAGE_BYTES: `ping`, `subscribe`, `unsubscribe`
(with `topics`), `status`. Gateway -> client: `welcome`, `pong`, `subscribed`, `unsubscribed`,
`status`, `event`, `heartbeat`, and `error` for a message it cannot take (the connection stays open).
Error messages never quote the client's input back. docs/websocket.md shows every message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mlsec.core.events import Event

TOPIC_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
ALL_TOPICS = "*"
KNOWN_TOPICS = (
    "health",
    "metrics",
    "predictions",
    "training",
    "drift",
    "promotions",
    "models",
    "alerts",
    "privacy",
    "business",
    "events",
)
"""Topics the platform publishes on; any name matching TOPIC_PATTERN may be subscribed to."""
MAX_MESSAGE_BYTES = 64 * 1024
CLIENT_MESSAGE_TYPES = ("ping", "subscribe", "unsubscribe", "status")

# Close codes (RFC 6455 section 7.4.1).
GOING_AWAY = 1001
POLICY_VIOLATION = 1008
INTERNAL_ERROR = 1011
TRY_AGAIN_LATER = 1013


class ProtocolError(Exception):
    """A client message the gateway answers with `{"type": "error"}`; the connection stays open."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def parse_message(frame: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON object of a received ASGI frame; ProtocolError when binary, too large or malformed."""
    text = frame.get("text")
    if not isinstance(text, str):
        raise ProtocolError("invalid_message", "send JSON objects as text frames")
    if len(text) > MAX_MESSAGE_BYTES or len(text.encode()) > MAX_MESSAGE_BYTES:
        raise ProtocolError("too_large", f"a message may have at most {MAX_MESSAGE_BYTES} bytes")
    try:
        message = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep for the parser
        raise ProtocolError("invalid_json", "the message is not valid JSON") from exc
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("invalid_message", "a message is a JSON object with a string 'type'")
    if message["type"] not in CLIENT_MESSAGE_TYPES:
        raise ProtocolError("unknown_type", f"unknown message type; expected one of: {', '.join(CLIENT_MESSAGE_TYPES)}")
    return message


def parse_topics(message: Mapping[str, Any], *, max_topics: int) -> frozenset[str]:
    """The message's `topics`, each a valid name or "*"; the whole message is refused otherwise."""
    topics = message.get("topics")
    if not isinstance(topics, list) or not topics:
        raise ProtocolError("invalid_topics", "'topics' must be a non-empty list of topic names")
    if len(topics) > max_topics:
        raise ProtocolError("too_many_topics", f"at most {max_topics} topics per client")
    for index, topic in enumerate(topics):
        if not isinstance(topic, str) or (topic != ALL_TOPICS and not TOPIC_PATTERN.fullmatch(topic)):
            raise ProtocolError(
                "invalid_topics",
                f"topics[{index}] is not a topic name: 1-64 characters of a-z, 0-9, '_', '.', '-', "
                'starting with a letter, or "*" for all',
            )
    return frozenset(topics)


def event_message(event: Event) -> str:
    """An event as the clients get it, serialised once for all of them."""
    return f'{{"type":"event","topic":{json.dumps(event.topic)},"event":{event.model_dump_json()}}}'


def welcome_message(client_id: str, *, max_topics: int, queue: int, max_lag: int) -> str:
    """The first message a client gets: its id, the topics on offer and the limits it is held to."""
    limits = {"max_topics": max_topics, "max_message_bytes": MAX_MESSAGE_BYTES, "queue": queue, "max_lag": max_lag}
    return dump(
        {
            "type": "welcome",
            "client_id": client_id,
            "topics": [],
            "available_topics": list(KNOWN_TOPICS),
            "limits": limits,
            "timestamp": now(),
        }
    )


def pong_message() -> str:
    return dump({"type": "pong", "timestamp": now()})


def status_message(data: Mapping[str, Any]) -> str:
    return dump({"type": "status", "data": data, "timestamp": now()})


def topics_message(kind: str, topics: list[str]) -> str:
    """`subscribed` or `unsubscribed`, with the client's topics after the change."""
    return dump({"type": kind, "topics": topics})


def error_message(error: ProtocolError) -> str:
    return dump({"type": "error", "code": error.code, "message": error.message})


def heartbeat_message() -> str:
    return dump({"type": "heartbeat", "timestamp": now()})


def dump(message: Mapping[str, Any]) -> str:
    """Compact JSON; values JSON does not know (datetimes in a status answer) become strings."""
    return json.dumps(message, separators=(",", ":"), default=str)


def now() -> str:
    return datetime.now(UTC).isoformat()
