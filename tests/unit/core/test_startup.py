"""Start-up tasks: retried with backoff until they succeed, reported as pending by /health/ready meanwhile."""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest
from fastapi import FastAPI

from mlsec.core.app import ServiceContext, create_service_app
from mlsec.core.services import get_spec
from mlsec.core.settings import Settings
from mlsec.core.startup import StartupTasks
from tests.conftest import started_client

pytestmark = pytest.mark.anyio


async def until(check: Callable[[], Awaitable[bool] | bool], within: float = 5.0) -> None:
    """Poll until `check` holds; fail after `within` seconds."""
    with anyio.fail_after(within):
        for _ in itertools.count():
            result = check()
            if await result if inspect.isawaitable(result) else result:
                return
            await asyncio.sleep(0.01)


class Dependency:
    """Something another process provides: down until `up` is set, counting the attempts."""

    def __init__(self) -> None:
        self.up = False
        self.attempts = 0

    async def use(self) -> None:
        self.attempts += 1
        if not self.up:
            raise ConnectionError("connection refused\nsecond line")


async def test_a_task_is_retried_with_backoff_until_its_dependency_answers() -> None:
    tasks = StartupTasks(initial_backoff=0.01, max_backoff=0.05)
    dependency = Dependency()
    tasks.run("models", dependency.use, state="loading")
    await until(lambda: dependency.attempts >= 3)
    pending = tasks.pending()["models"]
    assert pending.state == "loading" and pending.attempts >= 2
    assert pending.last_error == "ConnectionError: connection refused"
    assert pending.next_attempt_in_seconds is not None and 0 < pending.next_attempt_in_seconds <= 0.05
    dependency.up = True
    with anyio.fail_after(5):
        await tasks.wait("models")
    assert tasks.pending() == {}
    await tasks.close()


async def test_the_backoff_grows_up_to_its_cap() -> None:
    tasks = StartupTasks(initial_backoff=0.01, max_backoff=0.04)
    dependency = Dependency()
    waits: list[float] = []

    async def use() -> None:
        if (pending := tasks.pending()["db"]).next_attempt_in_seconds is not None:
            waits.append(pending.next_attempt_in_seconds)
        await dependency.use()

    tasks.run("db", use)
    await until(lambda: len(waits) >= 6)
    await tasks.close()
    assert waits[0] < waits[3] and max(waits) <= 0.04


async def test_close_cancels_what_is_pending_and_a_name_runs_once_at_a_time() -> None:
    tasks = StartupTasks(initial_backoff=0.01)
    dependency = Dependency()
    task = tasks.run("registry", dependency.use)
    with pytest.raises(ValueError, match="already running"):
        tasks.run("registry", dependency.use)
    await tasks.close()
    assert task.cancelled()


async def test_readiness_says_what_is_still_pending(settings: Settings) -> None:
    dependency = Dependency()

    @asynccontextmanager
    async def lifespan(app: FastAPI, ctx: ServiceContext) -> AsyncIterator[None]:
        ctx.startup.initial_backoff = 0.01
        ctx.startup.run("models", dependency.use, state="loading")
        yield

    app = create_service_app(get_spec("tracing"), settings, lifespan=lifespan)
    async for http in started_client(app):
        await _pending_models(http, dependency)
        dependency.up = True
        await until(functools.partial(_nothing_pending, http))
        assert (await http.get("/health/deep")).json()["pending"] == {}


async def _nothing_pending(http: httpx.AsyncClient) -> bool:
    return not (await http.get("/health/ready")).json()["pending"]


async def _pending_models(http: httpx.AsyncClient, dependency: Dependency) -> None:
    await until(lambda: dependency.attempts >= 2)
    ready = await http.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"  # ready: it serves meanwhile
    models = ready.json()["pending"]["models"]
    assert models["state"] == "loading" and models["attempts"] >= 1
    assert models["last_error"] == "ConnectionError: connection refused"
    assert (await http.get("/health/deep")).json()["pending"]["models"]["state"] == "loading"


async def test_a_cancelled_waiter_stops_waiting_and_leaves_the_task_running() -> None:
    tasks = StartupTasks(initial_backoff=0.01)
    dependency = Dependency()
    task = tasks.run("monitor", dependency.use)
    waiter = asyncio.get_running_loop().create_task(tasks.wait("monitor"))
    await asyncio.sleep(0.05)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert not task.done()
    dependency.up = True
    with anyio.fail_after(5):
        await tasks.wait("monitor")
    await tasks.close()


async def test_one_task_can_be_cancelled_before_what_it_uses_is_closed() -> None:
    tasks = StartupTasks(initial_backoff=0.01)
    task = tasks.run("models", Dependency().use)
    await tasks.cancel("models")
    assert task.cancelled()
    await tasks.cancel("models")  # again, or an unknown name: nothing to do
    await tasks.cancel("unknown")
