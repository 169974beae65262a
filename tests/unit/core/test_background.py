"""Background work: a schedule that survives a failed round and stops cleanly; tasks kept until they end."""

from __future__ import annotations

import asyncio
import logging

import anyio
import pytest

from mlsec.core.background import BackgroundTasks, Periodic

pytestmark = pytest.mark.anyio


async def test_a_schedule_runs_on_its_interval_and_a_failed_round_does_not_end_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[int] = []
    enough = asyncio.Event()

    async def work() -> None:
        seen.append(len(seen))
        if len(seen) == 2:
            raise RuntimeError("one bad round")
        if len(seen) == 4:
            enough.set()

    periodic = Periodic("test-poll", work, interval=0.01, first_at_once=True)
    with caplog.at_level(logging.ERROR, logger="mlsec.background"):
        periodic.start()
        periodic.start()  # a second start does not double the schedule
        with anyio.fail_after(5):
            await enough.wait()
        await periodic.stop()
    assert seen[:4] == [0, 1, 2, 3] and periodic.failures == 1
    assert [r.message for r in caplog.records] == ["background.round_failed"]
    assert not periodic.running
    rounds = periodic.rounds
    await asyncio.sleep(0.05)
    assert periodic.rounds == rounds  # nothing runs after stop


async def test_the_first_round_waits_one_interval_unless_asked_to_run_at_once() -> None:
    calls: list[str] = []

    async def work() -> None:
        calls.append("ran")

    periodic = Periodic("slow", work, interval=60)
    periodic.start()
    await asyncio.sleep(0.05)
    await periodic.stop()
    assert calls == []


def test_a_schedule_needs_a_positive_interval() -> None:
    async def work() -> None:
        return None

    with pytest.raises(ValueError, match="must be positive"):
        Periodic("never", work, interval=0)


async def test_tasks_are_kept_until_they_end_and_a_failure_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    tasks = BackgroundTasks("test")
    release = asyncio.Event()

    async def waits() -> None:
        await release.wait()

    async def fails() -> None:
        raise ValueError("lost?")

    with caplog.at_level(logging.ERROR, logger="mlsec.background"):
        tasks.spawn(waits(), "waits")
        failing = tasks.spawn(fails(), "fails")
        with anyio.fail_after(5):
            await asyncio.wait({failing})
        await asyncio.sleep(0)
    assert len(tasks) == 1
    assert [(r.message, getattr(r, "task", None)) for r in caplog.records] == [("background.task_failed", "fails")]
    release.set()
    await asyncio.sleep(0.01)
    assert len(tasks) == 0


async def test_close_cancels_what_is_still_running() -> None:
    tasks = BackgroundTasks("test")
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    task = tasks.spawn(forever(), "forever")
    await started.wait()
    await tasks.close()
    assert task.cancelled() and len(tasks) == 0
