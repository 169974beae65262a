"""The registry cache makes MLflow's absence invisible: answers from the snapshot, marked stale, while MLflow is
down; from the file within a second of a restart; never from a torn file."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import PlainTextResponse

from mlsec.core.settings import ConfigurationError
from mlsec.services.control_tower.app import create_app
from mlsec.services.control_tower.service import snapshot as files
from mlsec.services.control_tower.service.snapshot import ModelRecord, Snapshot, VersionRecord
from mlsec.services.control_tower.settings import ControlTowerSettings
from tests.api.control_tower.conftest import MODEL, open_tower, platform_settings, seed_registry, tower_settings
from tests.conftest import started_client
from tests.servers import MlflowServer, ThreadedServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def own_mlflow(tmp_path: Path) -> Iterator[MlflowServer]:
    """A registry this test may stop and start again (on the same port, with the same store)."""
    server = MlflowServer(tmp_path / "mlflow")
    try:
        seed_registry(server.start().url)
        yield server
    finally:
        server.stop()


async def test_mlflow_down_answers_stay_marked_stale_and_recover(home: Path, own_mlflow: MlflowServer) -> None:
    settings = platform_settings(home, own_mlflow.url, breaker_reset_timeout=1.0)
    async for tower in open_tower(settings):
        before = (await tower.get("/models/all")).json()
        assert "X-Mlsec-Stale" not in (await tower.get("/models/all")).headers
        own_mlflow.stop()

        failed = await tower.post("/cache/refresh")
        assert failed.status_code == 503
        assert "unavailable" in failed.json()["message"]
        answer = await tower.get("/models/all")
        assert answer.status_code == 200 and answer.json() == before
        assert "MLflow unreachable since" in answer.headers["X-Mlsec-Stale"]
        assert int(answer.headers["Age"]) >= 0
        info = (await tower.get("/cache/info")).json()
        assert info["cache_info"]["is_stale"] is True and info["cache_info"]["last_error"]
        assert info["system_status"]["mlflow_connected"] is False
        health = (await tower.get("/health")).json()
        assert (health["status"], health["mlflow_connection"], health["cache_stale"]) == (
            "healthy",  # it answers, from its cache
            "disconnected",
            True,
        )
        assert (await tower.get("/dashboard/summary")).json()["is_stale"] is True
        versions = await tower.get(f"/model/{MODEL}/versions")
        assert versions.status_code == 200 and "X-Mlsec-Stale" in versions.headers

        own_mlflow.start()
        for _ in range(60):  # the circuit breaker lets a call through again after its reset timeout
            if (await tower.post("/cache/refresh")).status_code == 200:
                break
            await asyncio.sleep(0.5)
        recovered = await tower.get("/models/all")
        assert "X-Mlsec-Stale" not in recovered.headers
        assert (await tower.get("/health")).json()["mlflow_connection"] == "connected"


async def test_a_restart_while_mlflow_is_down_answers_from_the_file_within_a_second(
    home: Path, own_mlflow: MlflowServer
) -> None:
    settings = platform_settings(home, own_mlflow.url)
    async for tower in open_tower(settings):
        expected = (await tower.get("/models/all")).json()
    own_mlflow.stop()
    started = time.perf_counter()
    async for tower in started_client(create_app(settings, tower_settings())):
        answer = await tower.get("/models/all")
        elapsed = time.perf_counter() - started
        assert answer.status_code == 200 and answer.json() == expected
        assert answer.headers["X-Mlsec-Stale"]  # from the file, not confirmed by MLflow
        assert elapsed < 1.0, f"first answer after {elapsed:.2f} s"
        stats = (await tower.get("/cache/info")).json()["cache_info"]
        assert stats["source"] == "file" and stats["is_stale"] is True


async def test_without_a_file_and_without_mlflow_the_answer_is_503(home: Path, tmp_path: Path) -> None:
    settings = platform_settings(home, "http://127.0.0.1:9")  # nothing listens on the discard port
    async for tower in started_client(create_app(settings, tower_settings(cache_timeout_seconds=2))):
        answer = await tower.get("/models/all")
        assert answer.status_code == 503 and answer.headers["Retry-After"]
        assert (await tower.get("/")).json()["status"] == "starting"
        assert (await tower.get("/health")).json()["experiments_count"] is None


def _snapshot(label: str, versions: int) -> Snapshot:
    """A large snapshot (so that writing it takes a while) whose every version names `label`."""
    records = [VersionRecord(name=label, version=str(i), description=label * 50) for i in range(versions)]
    return Snapshot(
        taken_at=datetime.now(UTC),
        tracking_uri="http://mlflow",
        models={label: ModelRecord(name=label, versions=records)},
    )


WRITER = """
import sys
from pathlib import Path
from mlsec.services.control_tower.service import snapshot as files
from tests.api.control_tower.test_cache import _snapshot
path = Path(sys.argv[1])
pair = [_snapshot("old", 20000), _snapshot("new", 20000)]
print("ready", flush=True)
i = 0
while True:
    files.save(pair[i % 2], path)
    i += 1
"""


def test_a_kill_mid_write_leaves_a_whole_file_old_or_new(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "registry-snapshot.json"
    files.save(_snapshot("old", 20000), path)
    for delay in (0.05, 0.13, 0.21, 0.34, 0.55, 0.8):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, cwd=Path(__file__).parents[3]
        )
        assert writer.stdout is not None and writer.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(10)
        writer.stdout.close()
        kept = files.load(path)
        assert kept is not None, "a torn snapshot file"
        assert set(kept.models) in ({"old"}, {"new"}) and len(kept.models[next(iter(kept.models))].versions) == 20000
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    files.remove_leftovers(path)  # what a start does before loading
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_torn_or_foreign_file_is_ignored_not_half_read(tmp_path: Path) -> None:
    path = tmp_path / "registry-snapshot.json"
    files.save(_snapshot("whole", 10), path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    assert files.load(path) is None
    path.write_text('{"format": 99}')
    assert files.load(path) is None
    assert files.load(tmp_path / "missing.json") is None


def test_mock_data_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="ENABLE_MOCK_DATA=true is refused"):
        create_app(platform_settings(tmp_path, "http://127.0.0.1:9"), ControlTowerSettings(enable_mock_data=True))


def test_the_seeds_variable_names_are_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in {
        "ENABLE_CACHE": "false",
        "CACHE_REFRESH_INTERVAL_MINUTES": "5",
        "CACHE_TIMEOUT_SECONDS": "30",
        "MAX_MODELS_RETURNED": "7",
        "ENABLE_CACHE_PERSISTENCE": "false",
        "CACHE_DIRECTORY": str(tmp_path / "c"),
        "CACHE_MAX_AGE_HOURS": "1",
        "ENABLE_DEBUG_ENDPOINTS": "false",
        "MLFLOW_TRACKING_USERNAME": "alice",
        "MLFLOW_TRACKING_PASSWORD": "s3cret",
    }.items():
        monkeypatch.setenv(name, value)
    own = ControlTowerSettings()
    assert (own.enable_cache, own.cache_refresh_interval_minutes, own.cache_timeout_seconds) == (False, 5, 30)
    assert (own.max_models_returned, own.enable_cache_persistence, own.cache_max_age_hours) == (7, False, 1)
    assert own.cache_file(tmp_path) == tmp_path / "c" / "registry-snapshot.json"
    assert own.enable_debug_endpoints is False and own.mlflow_username == "alice"
    assert own.mlflow_password is not None and own.mlflow_password.get_secret_value() == "s3cret"


async def test_debug_endpoints_off_means_no_route_and_the_config_holds_no_secret(home: Path) -> None:
    settings = platform_settings(home, "http://user:pw-in-url@127.0.0.1:9")
    own = tower_settings(enable_debug_endpoints=False, mlflow_username="alice", mlflow_password="s3cret")
    async for tower in started_client(create_app(settings, own)):
        assert (await tower.get("/debug/monitored")).status_code == 404
        response = await tower.get("/config")
        assert "s3cret" not in response.text and "pw-in-url" not in response.text
        config = response.json()
        assert config["mlflow"] == {"tracking_uri": "http://127.0.0.1:9", "authentication": True}
        assert config["features"]["debug_endpoints_enabled"] is False


async def test_cache_off_reads_mlflow_for_every_answer(home: Path, own_mlflow: MlflowServer) -> None:
    async for tower in started_client(
        create_app(platform_settings(home, own_mlflow.url), tower_settings(enable_cache=False))
    ):
        assert MODEL in {m["name"] for m in (await tower.get("/models/all")).json()}
        info = (await tower.get("/cache/info")).json()
        assert info["system_status"]["tracking_method"] == "direct"
        assert not (home / "control-tower" / "registry-snapshot.json").exists()


def _guarded_mlflow(user: str, password: str) -> FastAPI:
    """An HTTP server that, like an MLflow behind a proxy with basic auth, answers only with the credentials."""
    app = FastAPI()
    expected = httpx.BasicAuth(user, password)._auth_header

    def check(request: Request) -> None:
        if request.headers.get("authorization") != expected:
            raise HTTPException(401)

    @app.get("/health", response_class=PlainTextResponse)
    def health(request: Request) -> str:
        check(request)
        return "OK"

    @app.post("/api/2.0/mlflow/experiments/search")
    def experiments(request: Request) -> dict[str, object]:
        check(request)
        return {"experiments": []}

    @app.get("/api/2.0/mlflow/registered-models/search")
    @app.get("/api/2.0/mlflow/model-versions/search")
    def empty(request: Request) -> dict[str, object]:
        check(request)
        return {}

    return app


@pytest.mark.parametrize(("password", "connected"), [("s3cret", True), ("wrong", False)])
async def test_the_seeds_credentials_reach_mlflow_as_basic_auth(home: Path, password: str, connected: bool) -> None:
    with ThreadedServer(_guarded_mlflow("alice", "s3cret")) as mlflow:
        own = tower_settings(mlflow_username="alice", mlflow_password=password, cache_timeout_seconds=5)
        async for tower in started_client(create_app(platform_settings(home, mlflow.url), own)):
            assert ((await tower.get("/health")).json()["mlflow_connection"] == "connected") is connected
            assert ((await tower.post("/cache/refresh")).status_code == 200) is connected
