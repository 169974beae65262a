"""Shared fixtures: isolated settings, the real PostgreSQL and Redis when they are available, the session's platform.

PostgreSQL and Redis tests run when MLSEC_TEST_POSTGRES_URL / MLSEC_TEST_REDIS_URL are set; they
are skipped with a message otherwise, and fail instead when MLSEC_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from mlsec.core.settings import Settings, postgres_url_for_database
from tests.platform_support import READY_LINE, Platform, Running, platform_env

# Variables Settings reads; cleared so a developer's shell cannot change what the tests see.
_SETTINGS_ENV = (
    "MLSEC_",
    "MODEL_API_URL",
    "TRAINING_URL",
    "TRAINING_SERVICE_URL",
    "MODEL_CACHE_URL",
    "BUSINESS_METRICS_URL",
    "ANALYTICS_URL",
    "ANALYTICS_SERVICE_URL",
    "GATEWAY_URL",
    "DATA_PRIVACY_URL",
    "TRACING_URL",
    "CONTROL_TOWER_URL",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_URL",
    "POSTGRES_URL",
    "REDIS_",
    "LOG_LEVEL",
    "SERVICE_HOST",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)
_KEEP_ENV = ("MLSEC_TEST_POSTGRES_URL", "MLSEC_TEST_REDIS_URL", "MLSEC_REQUIRE_SERVICES")
REQUIRE_SERVICES = os.environ.get("MLSEC_REQUIRE_SERVICES") == "1"
TEST_DB_PREFIX = f"mlsect{uuid.uuid4().hex[:8]}"
T = TypeVar("T")


def run_in_new_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when called inside a running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session", autouse=True)
def _no_trace_export() -> Iterator[None]:
    """Apps a module or the session shares start before `_isolated_env`: they too export nothing."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLSEC_TRACE_EXPORT", "false")
        yield


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(_SETTINGS_ENV) and name not in _KEEP_ENV:
            monkeypatch.delenv(name)
    # Unit and API tests have no tracing service to send spans to; the e2e platform (platform_env) does, and
    # exports as a user's platform does: platform_env drops every MLSEC_ variable, this one included.
    monkeypatch.setenv("MLSEC_TRACE_EXPORT", "false")
    monkeypatch.chdir(tmp_path)  # no stray .env file is read


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_settings(home: Path, **overrides: Any) -> Settings:
    """Settings for one test: its own home, nothing from the environment or a .env file."""
    return Settings(_env_file=None, home=home, **overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "home")


def _unavailable(what: str, variable: str, reason: str) -> None:
    message = f"{what} tests need a server: {reason} (set {variable})"
    if REQUIRE_SERVICES:
        pytest.fail(f"MLSEC_REQUIRE_SERVICES=1 but {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """The URL of a real PostgreSQL server; databases created by tests are dropped at the end."""
    url = os.environ.get("MLSEC_TEST_POSTGRES_URL")
    if not url:
        _unavailable("PostgreSQL", "MLSEC_TEST_POSTGRES_URL", "not configured")
        raise AssertionError("unreachable")
    try:
        run_in_new_loop(_execute(url, "SELECT 1"))
    except Exception as exc:
        _unavailable("PostgreSQL", "MLSEC_TEST_POSTGRES_URL", f"cannot connect: {type(exc).__name__}: {exc}")
    yield url
    run_in_new_loop(_drop_test_databases(url))


async def _execute(server_url: str, statement: str) -> list[tuple[object, ...]]:
    engine = create_async_engine(postgres_url_for_database(server_url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(statement))
            return [tuple(row) for row in result.fetchall()] if result.returns_rows else []
    finally:
        await engine.dispose()


async def _drop_test_databases(server_url: str) -> None:
    rows = await _execute(server_url, f"SELECT datname FROM pg_database WHERE datname LIKE '{TEST_DB_PREFIX}%'")
    for (name,) in rows:
        await _execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_server_url() -> str:
    """The URL of a real Redis server."""
    url = os.environ.get("MLSEC_TEST_REDIS_URL")
    if not url:
        _unavailable("Redis", "MLSEC_TEST_REDIS_URL", "not configured")
        raise AssertionError("unreachable")
    try:
        run_in_new_loop(_ping_redis(url))
    except Exception as exc:
        _unavailable("Redis", "MLSEC_TEST_REDIS_URL", f"cannot connect: {type(exc).__name__}: {exc}")
    return url


async def _ping_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()


@pytest.fixture
def postgres_settings(tmp_path: Path, postgres_server_url: str) -> Settings:
    """Settings whose service databases live on the real PostgreSQL server."""
    prefix = f"{TEST_DB_PREFIX}_{uuid.uuid4().hex[:6]}"
    return make_settings(tmp_path / "home", postgres_url=postgres_server_url, database_prefix=prefix)


@pytest.fixture(params=["sqlite", "postgres"])
def db_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """A database test runs on SQLite and, when available, on PostgreSQL."""
    if request.param == "sqlite":
        return settings
    return request.getfixturevalue("postgres_settings")  # type: ignore[no-any-return]


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Each service test runs on the embedded engines and, when available, on PostgreSQL and Redis."""
    if request.param == "sqlite":
        return make_settings(tmp_path / "home")
    pg = request.getfixturevalue("postgres_server_url")
    redis = request.getfixturevalue("redis_server_url")
    prefix = f"{TEST_DB_PREFIX}_{uuid.uuid4().hex[:6]}"
    return make_settings(tmp_path / "home", postgres_url=pg, database_prefix=prefix, redis_url=redis)


async def started_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and yield an HTTP client talking to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def wait_started(http: httpx.AsyncClient, within: float = 60.0) -> dict[str, Any]:
    """Until the service's start-up tasks (preloading, first registry read, ...) are done; its readiness."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        ready = (await http.get("/health/ready")).json()
        if ready.get("status") == "ready" and not ready.get("pending"):
            return dict(ready)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"start-up tasks still pending after {within} s: {ready}")
        await asyncio.sleep(0.05)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real MLflow tracking server (SQLite store, local artifacts), shared by the session."""
    from tests.servers import MlflowServer

    server = MlflowServer(tmp_path_factory.mktemp("mlflow-home")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def shared_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The one platform `mlsec up` runs for the session (tests/browser, then tests/e2e/test_up*.py: see Platform)."""
    home = tmp_path_factory.mktemp("platform") / "home"
    # Texts kept in the prediction logs (anonymized), as a deployment that reviews its traffic keeps them:
    # tests/e2e/test_up_privacy.py erases a person's rows from them.
    # Business metrics collected every 5 s instead of every minute: tests/e2e/test_up_business.py waits for them.
    env = platform_env(
        home,
        MLSEC_MODEL_API_STORE_TEXT="true",
        MLSEC_MODEL_CACHE_STORE_TEXT="true",
        MLSEC_BUSINESS_METRICS_COLLECT_INTERVAL_S="5",
    )
    running = Running(["up"], env, cwd=home.parent)
    try:
        assert running.wait_for_line(READY_LINE, timeout=180), running.output[-3000:]
        yield Platform(running, env, home)
    finally:
        if running.process.poll() is None:  # test_up_stop.py did not run
            running.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                running.wait(timeout=60)
        running.close()
