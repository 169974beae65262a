"""The local process pool: messages relayed in order, crashes and cancels reported, N jobs at a time."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest

from mlsec.services.training.service.runner import LocalProcessRunner
from mlsec.services.training.service.worker import JobSpec

pytestmark = pytest.mark.anyio


def _spec(job_id: str) -> JobSpec:
    return JobSpec(
        job_id=job_id,
        model_name="m",
        task="text_classification",
        datasets=[],
        evaluation=None,
        test_size=0.2,
        params={},
        tracking_uri="http://127.0.0.1:1",
    )


def quick_job(spec: JobSpec, outbox: Any) -> None:
    outbox.put(("progress", 50, "half"))
    outbox.put(("result", {"pid": os.getpid()}))


def crashing_job(spec: JobSpec, outbox: Any) -> None:
    outbox.put(("progress", 10, "about to crash"))
    os._exit(3)


def slow_job(spec: JobSpec, outbox: Any) -> None:
    outbox.put(("progress", 1, "sleeping"))
    time.sleep(60)


class Recorder:
    def __init__(self) -> None:
        self.messages: dict[str, list[tuple[Any, ...]]] = {}
        self.done = asyncio.Event()

    async def __call__(self, job_id: str, message: tuple[Any, ...]) -> None:
        self.messages.setdefault(job_id, []).append(message)
        if message[0] in {"result", "error", "cancelled"}:
            self.done.set()


async def test_messages_arrive_in_order() -> None:
    recorder = Recorder()
    runner = LocalProcessRunner(workers=1, on_message=recorder, target=quick_job)
    runner.submit(_spec("a"))
    await asyncio.wait_for(recorder.done.wait(), 60)
    kinds = [m[0] for m in recorder.messages["a"]]
    assert kinds == ["started", "progress", "result"]
    await runner.close()


async def test_a_crash_is_reported_with_its_exit_code() -> None:
    recorder = Recorder()
    runner = LocalProcessRunner(workers=1, on_message=recorder, target=crashing_job)
    runner.submit(_spec("b"))
    await asyncio.wait_for(recorder.done.wait(), 60)
    assert recorder.messages["b"][-1] == ("error", "worker process exited with code 3")
    await runner.close()


async def test_cancel_stops_running_and_queued_jobs() -> None:
    recorder = Recorder()
    runner = LocalProcessRunner(workers=1, on_message=recorder, target=slow_job)
    runner.submit(_spec("running"))
    runner.submit(_spec("waiting"))
    for _ in range(600):
        if any(m[0] == "progress" for m in recorder.messages.get("running", [])):
            break
        await asyncio.sleep(0.05)
    assert runner.running == 1  # one worker slot: the second job waits
    assert await runner.cancel("waiting")
    assert await runner.cancel("running")
    assert recorder.messages["running"][-1] == ("cancelled",)
    assert "waiting" not in recorder.messages
    assert runner.running == 0
    assert not await runner.cancel("unknown")
    await runner.close()
