"""Background work of a running service: a job repeated on a schedule, and tasks kept until they end.

Every service polls something (champions to preload, the health of the others, traffic summaries, drift) and
every one had written the same start/cancel/await idiom, with small differences in how a failure was
handled. Here it is once: a failed round is logged and the schedule goes on; a task is kept referenced until
it ends (asyncio keeps only weak references) and its failure logged, never lost; stopping cancels and waits,
so a lifespan's shutdown leaves nothing running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

logger = logging.getLogger("mlsec.background")


class Periodic:
    """Runs `work` every `interval` seconds, from the moment `start` is called until `stop`.

    `first_at_once` runs a round at start instead of after one interval. The interval is measured from the
    start of one round to the start of the next (a slow round shortens the wait, never stacks rounds). A round
    that raises is logged under `name` and the next one runs on time: a poll must never end the polling.
    """

    def __init__(
        self, name: str, work: Callable[[], Awaitable[object]], *, interval: float, first_at_once: bool = False
    ) -> None:
        if interval <= 0:
            raise ValueError(f"{name}: the interval must be positive, not {interval}")
        self.name = name
        self.interval = interval
        self.first_at_once = first_at_once
        self.rounds = 0
        self.failures = 0
        self._work = work
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the schedule (inside a running event loop); a second call does nothing."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Cancel the schedule and wait until a round in progress has unwound."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        if not self.first_at_once:
            await asyncio.sleep(self.interval)
        while True:
            started = time.monotonic()
            await self.run_once()
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    async def run_once(self) -> None:
        """One round now; a failure is logged and counted, never raised."""
        self.rounds += 1
        try:
            await self._work()
        except Exception as exc:
            self.failures += 1
            logger.exception("background.round_failed", extra={"task": self.name, "error_type": type(exc).__name__})


class BackgroundTasks:
    """Tasks started by a service and kept until they end; `close` cancels what is left and waits for it."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run `coroutine` in the background, kept referenced until done; a failure is logged, never lost."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error(
                "background.task_failed",
                extra={"owner": self.owner, "task": task.get_name(), "error_type": type(exc).__name__},
                exc_info=exc,
            )

    async def close(self) -> None:
        """Cancel every task still running and wait until all have ended."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
