"""Runs training jobs in a local pool of processes, one process per job, N at a time.

A process per job (rather than a shared executor) lets a cancel stop a job at once and gives the
memory of a finished job back to the system. The service stays responsive: it only waits on a
queue of small progress messages, in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import multiprocessing
import os
import queue
from collections.abc import Awaitable, Callable
from multiprocessing.process import BaseProcess
from typing import Any

import anyio

from mlsec.services.training.service.worker import JobSpec, run_job

Message = tuple[Any, ...]
MessageHandler = Callable[[str, Message], Awaitable[None]]
POLL_SECONDS = 0.5
TERMINATE_GRACE_SECONDS = 5.0
logger = logging.getLogger("mlsec.training.runner")


def _next_message(inbox: Any) -> Message | None:
    try:
        message: Message = inbox.get(timeout=POLL_SECONDS)
    except queue.Empty:
        return None
    return message


class LocalProcessRunner:
    """At most `workers` jobs run at once; the rest wait their turn in submission order."""

    def __init__(self, *, workers: int, on_message: MessageHandler, target: Callable[..., None] = run_job):
        self.workers = workers
        self._target = target
        self._on_message = on_message
        self._context = multiprocessing.get_context("spawn")
        self._slots = asyncio.Semaphore(workers)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._processes: dict[str, BaseProcess] = {}
        self._cancelled: set[str] = set()

    @property
    def running(self) -> int:
        return len(self._processes)

    def submit(self, spec: JobSpec) -> None:
        """Queue a job; it starts when a worker slot is free."""
        task = asyncio.create_task(self._run(spec), name=f"training-job-{spec.job_id}")
        self._tasks[spec.job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(spec.job_id, None))

    async def _run(self, spec: JobSpec) -> None:
        async with self._slots:
            if spec.job_id in self._cancelled:
                return
            spec = dataclasses.replace(spec, parent_pid=os.getpid())
            inbox = self._context.Queue()
            process = self._context.Process(
                target=self._target, args=(spec, inbox), daemon=True, name=f"mlsec-training-{spec.job_id}"
            )
            process.start()
            self._processes[spec.job_id] = process
            try:
                await self._on_message(spec.job_id, ("started", process.pid))
                finished = await self._follow(spec.job_id, process, inbox)
                await anyio.to_thread.run_sync(process.join, TERMINATE_GRACE_SECONDS)
                if spec.job_id in self._cancelled:
                    await self._on_message(spec.job_id, ("cancelled",))
                elif not finished:
                    await self._on_message(
                        spec.job_id, ("error", f"worker process exited with code {process.exitcode}")
                    )
            finally:
                self._processes.pop(spec.job_id, None)
                self._cancelled.discard(spec.job_id)
                inbox.close()

    async def _follow(self, job_id: str, process: BaseProcess, inbox: Any) -> bool:
        """Relay messages until the process ends; True when it said how it ended."""
        finished = False
        while True:
            message = await anyio.to_thread.run_sync(_next_message, inbox)
            if message is not None:
                if job_id not in self._cancelled:
                    await self._on_message(job_id, message)
                finished = finished or message[0] in ("result", "error")
            elif not process.is_alive():
                return finished

    async def cancel(self, job_id: str) -> bool:
        """Stop a queued or running job; True when there was one to stop."""
        task = self._tasks.get(job_id)
        if task is None:
            return False
        self._cancelled.add(job_id)
        process = self._processes.get(job_id)
        if process is None:  # still waiting for a slot
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return True
        process.terminate()
        await anyio.to_thread.run_sync(process.join, TERMINATE_GRACE_SECONDS)
        if process.is_alive():
            process.kill()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return True

    async def close(self) -> None:
        """Stop every job (the service is shutting down; they will be marked interrupted)."""
        processes = list(self._processes.values())
        for process in processes:
            process.terminate()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for process in processes:
            await anyio.to_thread.run_sync(process.join, TERMINATE_GRACE_SECONDS)
            if process.is_alive():
                process.kill()
