"""The supervisor's log pump survives what a child may print."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import pytest
from rich.console import Console

from mlsec.core.settings import Settings
from mlsec.launcher.children import Child
from mlsec.launcher.supervisor import Supervisor, mlflow_command

pytestmark = pytest.mark.anyio


async def test_an_overlong_line_is_cut_and_the_pump_goes_on(settings: Settings, tmp_path: Path) -> None:
    script = "import sys; sys.stdout.write('x' * (2 << 20) + '\\n'); print('after'); sys.stdout.flush()"
    child = Child("noisy", [sys.executable, "-c", script], "", "", "white", tmp_path / "noisy.log")
    supervisor = Supervisor(settings, console=Console(file=io.StringIO()))
    await supervisor._start(child)
    assert child.process is not None and child.pump is not None
    await child.process.wait()
    await asyncio.wait_for(child.pump, 10)
    cut, after = list(child.tail)[-2:]
    assert cut.endswith("[mlsec: line cut at the log line limit]")
    assert len(cut) < (1 << 20) + 100
    assert after == "after"
    assert (tmp_path / "noisy.log").read_text().endswith("after\n")


def test_mlflow_runs_with_one_worker_and_its_store_under_home(settings: Settings) -> None:
    argv = mlflow_command(settings)
    assert argv[1:4] == ["-m", "mlflow", "server"]
    assert argv[argv.index("--workers") + 1] == "1"
    assert argv[argv.index("--backend-store-uri") + 1].startswith(f"sqlite:///{settings.home.resolve()}")
    assert argv[argv.index("--port") + 1] == "5000"
