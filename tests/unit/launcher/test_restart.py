"""The launcher restarts what dies, backs off, and gives up on a crash loop without touching the others."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from mlsec.core.settings import Settings
from mlsec.launcher.children import Child
from mlsec.launcher.restart import RestartPolicy, RestartRecord
from mlsec.launcher.state_file import read_state, state_path
from mlsec.launcher.supervisor import Supervisor

pytestmark = pytest.mark.anyio


def test_the_backoff_doubles_up_to_its_ceiling_and_a_stable_run_resets_it() -> None:
    record = RestartRecord(RestartPolicy(initial_delay=1, max_delay=4, max_crashes=100, window=1000))
    delays = [record.exited(1, ran_for=2, now=float(t)) for t in range(5)]
    assert delays == [1, 2, 4, 4, 4]
    assert record.state == "restarting"
    assert record.exited(-9, ran_for=3600, now=10) == 1  # up for an hour: a fresh crash, not a loop
    assert record.last_exit_code == -9


def test_a_restart_is_due_only_after_its_backoff() -> None:
    record = RestartRecord(RestartPolicy(initial_delay=2))
    record.exited(1, ran_for=1, now=100)
    assert not record.due(101)
    assert record.due(102)
    record.restarted()
    assert (record.state, record.restarts, record.due(500)) == ("starting", 1, False)


def test_a_crash_loop_is_given_up_but_crashes_spread_over_time_are_not() -> None:
    policy = RestartPolicy(max_crashes=3, window=60)
    spread = RestartRecord(policy)
    assert all(spread.exited(1, ran_for=1, now=t * 61.0) is not None for t in range(10))
    loop = RestartRecord(policy)
    assert loop.exited(1, ran_for=1, now=0) is not None
    assert loop.exited(1, ran_for=1, now=1) is not None
    assert loop.exited(1, ran_for=1, now=2) is None
    assert (loop.state, loop.due(10_000)) == ("given_up", False)


@pytest.mark.parametrize(
    "policy",
    [
        {"initial_delay": 0},
        {"initial_delay": 5, "max_delay": 1},
        {"max_crashes": 0},
        {"window": 0},
    ],
)
def test_a_policy_that_cannot_work_is_refused(policy: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"must be positive|initial_delay"):
        RestartPolicy(**policy)


def _child(name: str, script: str, tmp_path: Path, policy: RestartPolicy) -> Child:
    child = Child(name, [sys.executable, "-c", script], "http://127.0.0.1:1/", "", "white", tmp_path / f"{name}.log")
    child.record = RestartRecord(policy)
    child.record.state = "ready"
    return child


async def test_a_dead_process_is_restarted_and_a_crash_loop_given_up_while_the_others_run(
    settings: Settings, tmp_path: Path
) -> None:
    policy = RestartPolicy(initial_delay=0.1, max_delay=0.2, max_crashes=3, window=60)
    output = io.StringIO()
    supervisor = Supervisor(settings, console=Console(file=output, width=200), policy=policy)
    crashing = _child("crashing", "import sys; print('boom'); sys.exit(3)", tmp_path, policy)
    steady = _child("steady", "import time; time.sleep(60)", tmp_path, policy)
    supervisor.children = [crashing, steady]
    for child in supervisor.children:
        await supervisor._start(child)
    assert steady.process is not None
    steady_pid = steady.process.pid
    async with _serving(supervisor):
        for _ in range(100):
            if crashing.record.state == "given_up":
                break
            await asyncio.sleep(0.1)
        processes = read_state(settings)
    text = output.getvalue()
    assert crashing.record.state == "given_up", text
    assert crashing.record.restarts == 2  # three runs: the first and two restarts
    assert "crashing exited with code 3; restarting it in 0.1 s (restart 1)" in text
    assert "giving up on it (the other processes keep running)" in text
    assert "boom" in text  # the tail of its log is shown with each exit
    assert (tmp_path / "crashing.log").read_text().count("boom") == 3
    assert steady.process.pid == steady_pid and steady.record.state == "ready"  # never touched
    assert processes["crashing"]["state"] == "given_up"
    assert processes["crashing"]["last_exit_code"] == 3
    assert processes["steady"] == {"pid": steady_pid, "state": "ready", "restarts": 0, "last_exit_code": None}
    assert state_path(settings).stat().st_mode & 0o777 == 0o600


async def test_every_process_given_up_ends_the_platform_with_code_1(settings: Settings, tmp_path: Path) -> None:
    policy = RestartPolicy(initial_delay=0.1, max_crashes=1, window=60)
    supervisor = Supervisor(settings, console=Console(file=io.StringIO()), policy=policy)
    supervisor.children = [_child("only", "raise SystemExit(2)", tmp_path, policy)]
    await supervisor._start(supervisor.children[0])
    try:
        async with asyncio.timeout(20):
            async with _http() as http:
                assert await supervisor._watch(http) == 1
    finally:
        await supervisor._stop_all()


@contextlib.asynccontextmanager
async def _serving(supervisor: Supervisor) -> AsyncIterator[Supervisor]:
    """Runs the supervisor's watch loop in the background; on exit stops it and every child."""
    async with _http() as http:
        task = asyncio.create_task(supervisor._watch(http))
        try:
            yield supervisor
        finally:
            supervisor._stop.set()
            assert await asyncio.wait_for(task, 10) == 0
            await supervisor._stop_all()


def _http() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=1.0)
