"""Start-up work that needs another process, retried until that process answers.

On a cold start the services come up in no particular order: the model cache may look for champions
before MLflow answers, analytics may run its first check before the model API is up. Work like that is
handed to `StartupTasks.run`: it runs in the background (the service starts serving at once), is tried
again with exponential backoff and jitter for as long as it fails, and is listed as pending by
`/health/ready` until it has succeeded once. Nothing is given up on: a dependency that comes back an hour
later still gets the work done.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

logger = logging.getLogger("mlsec.startup")
QUIET_SECONDS = 60.0  # failed attempts are logged at INFO this long, then at WARNING
StartupWork = Callable[[], Awaitable[object]]


@dataclass
class PendingTask:
    """A start-up task that has not succeeded yet: what it is doing, how often it failed, and why."""

    name: str
    state: str
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    attempts: int = 0
    last_error: str | None = None
    next_attempt_in_seconds: float | None = None


def _reason(exc: BaseException) -> str:
    """The error's type and first line, short: what `/health/ready` shows and the log records."""
    first = (str(exc).splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}".rstrip(": ")


class StartupTasks:
    """The service's start-up tasks: each retried with backoff until it succeeds, pending until then."""

    def __init__(self, *, initial_backoff: float = 0.5, max_backoff: float = 30.0):
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self._pending: dict[str, PendingTask] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def run(self, name: str, work: StartupWork, *, state: str = "starting") -> asyncio.Task[None]:
        """Start `work` in the background; `state` is what `/health/ready` shows until it succeeds."""
        if name in self._tasks and not self._tasks[name].done():
            raise ValueError(f"start-up task {name!r} is already running")
        pending = PendingTask(name=name, state=state)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential_jitter(
                multiplier=self.initial_backoff, max=self.max_backoff, jitter=self.initial_backoff
            ),
            before_sleep=functools.partial(_failed, pending),
            reraise=True,
        )
        self._pending[name] = pending
        task = asyncio.get_running_loop().create_task(self._until_done(pending, retrying, work), name=f"startup:{name}")
        task.add_done_callback(_report_crash)
        self._tasks[name] = task
        return task

    def pending(self) -> dict[str, PendingTask]:
        """The tasks that have not succeeded yet, by name."""
        return dict(self._pending)

    async def wait(self, name: str) -> None:
        """Until the named task has succeeded (or was cancelled). Cancelling the waiter cancels the wait only."""
        task = self._tasks.get(name)
        if task is not None:
            await asyncio.wait({task})

    async def cancel(self, name: str) -> None:
        """Cancel one task if it is still pending (before closing what it uses), and wait until it has stopped."""
        task = self._tasks.get(name)
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def close(self) -> None:
        """Cancel whatever is still pending (the service is stopping)."""
        tasks = [task for task in self._tasks.values() if not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _until_done(self, pending: PendingTask, retrying: AsyncRetrying, work: StartupWork) -> None:
        async for attempt in retrying:
            with attempt:
                await work()
        del self._pending[pending.name]
        logger.info("startup.done", extra={"task": pending.name, "attempts": pending.attempts + 1})


def _failed(pending: PendingTask, retry: RetryCallState) -> None:
    """Before each wait: record why the attempt failed and when the next one comes."""
    assert retry.outcome is not None
    exc = retry.outcome.exception()
    assert exc is not None
    pending.attempts = retry.attempt_number
    pending.last_error = _reason(exc)
    pending.next_attempt_in_seconds = round(retry.upcoming_sleep, 2)
    # On a cold start the first attempts fail as a matter of course (MLflow takes seconds to answer):
    # information at first, a warning once the dependency has been missing for a while.
    waited = (datetime.now(UTC) - pending.since).total_seconds()
    logger.log(
        logging.WARNING if waited >= QUIET_SECONDS else logging.INFO,
        "startup.retrying",
        extra={
            "task": pending.name,
            "attempt": retry.attempt_number,
            "error": pending.last_error,
            "retry_in_seconds": pending.next_attempt_in_seconds,
        },
    )


def _report_crash(task: asyncio.Task[None]) -> None:
    """Only a BaseException that is not an Exception ends a task early (retries catch the rest): log it."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        logger.error("startup.crashed", extra={"task": task.get_name(), "error_type": type(exc).__name__})
