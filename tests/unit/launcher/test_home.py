"""What `mlsec up` keeps in MLSEC_HOME is its user's only: the home, the logs, MLflow's store, the run's token.

Each test runs under a permissive umask (002) so that a mode left to the umask shows.
"""

from __future__ import annotations

import io
import sys

import pytest
from pydantic import SecretStr
from rich.console import Console

from mlsec.core.service_token import SERVICE_TOKEN_ENV, load_service_token, service_token_path
from mlsec.core.settings import Settings
from mlsec.launcher.children import Child
from mlsec.launcher.home import prepare_home
from mlsec.launcher.supervisor import Supervisor
from tests.files_support import mode, permissive_umask  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("permissive_umask")


def test_the_home_logs_and_mlflow_store_are_private_before_anything_starts(settings: Settings) -> None:
    prepare_home(settings)
    store = settings.home / "mlflow" / "mlflow.db"
    assert {p.name: mode(p) for p in (settings.home, settings.logs_dir, store.parent, store)} == {
        "home": 0o700,
        "logs": 0o700,
        "mlflow": 0o700,
        "mlflow.db": 0o600,
    }
    assert store.stat().st_size == 0  # MLflow makes its tables in it as in a new database


def test_an_earlier_runs_wider_home_is_tightened(settings: Settings) -> None:
    store = settings.home / "mlflow" / "mlflow.db"
    store.parent.mkdir(parents=True)
    for folder in (settings.home, store.parent):
        folder.chmod(0o755)
    store.write_bytes(b"SQLite format 3\x00")
    store.chmod(0o644)
    prepare_home(settings)
    assert (mode(settings.home), mode(store.parent), mode(store)) == (0o700, 0o700, 0o600)
    assert store.read_bytes() == b"SQLite format 3\x00"
    prepare_home(settings.model_copy(update={"mlflow_tracking_uri": "http://mlflow.example:5000"}))  # not ours


@pytest.mark.anyio
async def test_log_files_are_private_even_when_they_were_not(settings: Settings) -> None:
    log = settings.logs_dir / "tracing.log"
    log.parent.mkdir(parents=True)
    log.write_text("an earlier run\n")
    log.chmod(0o644)
    fresh = settings.logs_dir / "mlflow.log"
    supervisor = Supervisor(settings, console=Console(file=io.StringIO()))
    for path in (log, fresh):
        child = Child(path.stem, [sys.executable, "-c", "print('up')"], "", "", "white", path)
        await supervisor._start(child)
        assert child.process is not None and child.pump is not None
        await child.process.wait()
        await child.pump
    assert (mode(settings.logs_dir), mode(log), mode(fresh)) == (0o700, 0o600, 0o600)
    assert log.read_text() == "an earlier run\nup\n"


def test_the_generated_token_is_left_for_the_cli_once_children_start(settings: Settings) -> None:
    supervisor = Supervisor(settings, console=Console(file=io.StringIO()))
    path = service_token_path(settings)
    assert not path.exists()  # an `mlsec up` refused by its checks leaves a running platform's file alone
    token = supervisor._child_env()[SERVICE_TOKEN_ENV]
    assert supervisor._child_env()[SERVICE_TOKEN_ENV] == token
    assert (mode(path.parent), mode(path)) == (0o700, 0o600)
    assert load_service_token(settings) == token and len(token) >= 32


def test_a_configured_token_is_not_written_anywhere(settings: Settings) -> None:
    configured = settings.model_copy(update={"service_token": SecretStr("c" * 40)})
    env = Supervisor(configured, console=Console(file=io.StringIO()))._child_env()
    assert env[SERVICE_TOKEN_ENV] == "c" * 40
    assert not service_token_path(settings).exists()
