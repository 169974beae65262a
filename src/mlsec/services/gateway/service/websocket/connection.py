"""One `/ws` client as the manager sees it: its topics, its bounded queue of serialised messages, how it ended,
and how fast it may send; and the refusal of a connection the manager does not take."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import deque

from fastapi import WebSocket

MESSAGE_RATE = 20.0
"""Messages per second a client may send on average; beyond a burst of MESSAGE_BURST it is read more slowly."""
MESSAGE_BURST = 40
CLOSE_TIMEOUT = 2.0


class Connection:
    """One connected client: its topics, its queue of serialised messages, how it ended."""

    def __init__(self, websocket: WebSocket):
        self.id = uuid.uuid4().hex
        self.websocket = websocket
        self.topics: frozenset[str] = frozenset()
        self.queue: deque[str] = deque()
        self.ready = asyncio.Event()  # the queue has something, or the client ended
        self.done = asyncio.Event()
        self.end_reason: str | None = None
        self.close_code: int | None = None
        self.close_reason = ""
        self.sending_since: float | None = None  # monotonic start of the send in progress
        self.lost_since_caught_up = 0
        self._tokens = float(MESSAGE_BURST)
        self._refilled = time.monotonic()

    def finish(self, reason: str, code: int | None, message: str) -> bool:
        """Mark the client ended (the first reason wins); False when it had ended already."""
        if self.end_reason is not None:
            return False
        self.end_reason, self.close_code, self.close_reason = reason, code, message
        self.done.set()
        self.ready.set()
        return True

    def throttle(self) -> float:
        """Seconds to wait before reading the client's next message (a token bucket; 0 within the rate)."""
        now_ = time.monotonic()
        self._tokens = min(float(MESSAGE_BURST), self._tokens + (now_ - self._refilled) * MESSAGE_RATE)
        self._refilled = now_
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / MESSAGE_RATE

    async def close(self) -> None:
        """Close the socket with the code the client was ended with, if any and if it still takes a frame."""
        if self.close_code is None:
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.websocket.close(self.close_code, self.close_reason)


async def refuse(websocket: WebSocket, code: int, reason: str) -> None:
    """Complete the handshake only to close with a code, which (unlike an HTTP 403) a browser can read."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await websocket.accept()
            await websocket.close(code, reason)
