"""The training service as a real process, against a real MLflow server."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from mlflow import MlflowClient

from mlsec.client import TrainingClient
from mlsec.core.http import create_http_client
from mlsec.core.settings import Settings
from tests.api.training.conftest import prompts_csv
from tests.conftest import make_settings
from tests.platform_support import Running, platform_env

pytestmark = pytest.mark.e2e


def _env(home: Path, mlflow_server: str, **extra: str) -> dict[str, str]:
    return platform_env(
        home, MLFLOW_TRACKING_URI=mlflow_server, MLSEC_TRAINING_BOOTSTRAP_DEFAULT_MODEL="false", **extra
    )


def _settings(env: dict[str, str]) -> Settings:
    return make_settings(
        Path(env["MLSEC_HOME"]),
        training_port=int(env["MLSEC_TRAINING_PORT"]),
        mlflow_tracking_uri=env["MLFLOW_TRACKING_URI"],
    )


def _start(run_mlsec: type[Running], env: dict[str, str]) -> Running:
    service = run_mlsec(["serve", "training"], env)
    assert service.wait_for_line("Application startup complete", timeout=90), service.output
    return service


async def _follow(client: TrainingClient, job_id: str, until: set[str], within: float = 240) -> dict[str, object]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        job = await client.get_training_job(job_id)
        if job["status"] in until:
            return job
        await asyncio.sleep(0.3)
    pytest.fail(f"job {job_id} never reached {until}")


def test_upload_train_follow_and_find_it_in_mlflow(
    tmp_path: Path, run_mlsec: type[Running], mlflow_server: str
) -> None:
    env = _env(tmp_path / "home", mlflow_server)
    _start(run_mlsec, env)
    settings = _settings(env)
    data = tmp_path / "attacks.csv"
    data.write_bytes(prompts_csv(200, seed=7))

    async def scenario() -> dict[str, object]:
        async with create_http_client(settings) as http:
            client = TrainingClient("training", settings.url_for("training"), http, settings)
            uploaded = await client.upload_data(
                data, name="e2e-attacks", text_column="prompt", label_column="is_attack"
            )
            assert uploaded["dataset"]["rows"] == 200
            job = await client.train_model("e2e-detector", dataset="e2e-attacks")
            progress = []
            while job["status"] not in {"succeeded", "failed", "cancelled"}:
                await asyncio.sleep(0.2)
                job = await client.get_training_job(job["id"])
                progress.append(job["progress"])
            assert progress == sorted(progress)
            return job

    job = asyncio.run(scenario())
    assert job["status"] == "succeeded", job
    assert job["progress"] == 100
    mlflow = MlflowClient(mlflow_server)
    run = mlflow.get_run(str(job["mlflow_run_id"]))
    assert run.info.status == "FINISHED"
    assert float(run.data.metrics["f1"]) > 0.9
    artifacts = {a.path for a in mlflow.list_artifacts(run.info.run_id)}
    assert {"confusion_matrix.png", "roc_curve.png", "pr_curve.png", "classification_report.json"} <= artifacts
    reference = sorted(a.path for a in mlflow.list_artifacts(run.info.run_id, "reference"))
    assert reference == ["reference/profile.json", "reference/projection.npz"]  # the drift baseline
    champion = mlflow.get_model_version_by_alias("e2e-detector", "champion")
    assert champion.version == job["model_version"]
    assert champion.run_id == run.info.run_id


def test_a_killed_service_leaves_no_job_running(tmp_path: Path, run_mlsec: type[Running], mlflow_server: str) -> None:
    env = _env(tmp_path / "home", mlflow_server)
    service = _start(run_mlsec, env)
    settings = _settings(env)
    data = tmp_path / "attacks.csv"
    data.write_bytes(prompts_csv(4000, seed=8))

    async def start_job() -> dict[str, object]:
        async with create_http_client(settings) as http:
            client = TrainingClient("training", settings.url_for("training"), http, settings)
            await client.upload_data(data, name="kill-attacks", text_column="prompt", label_column="is_attack")
            job = await client.train_model("kill-detector", dataset="kill-attacks")
            return await _follow(client, str(job["id"]), {"running", "succeeded", "failed"})

    job = asyncio.run(start_job())
    assert job["status"] == "running", job
    worker_pid = int(str(job["logs"][0]["message"]).rsplit(" ", 1)[-1])  # type: ignore[index]
    service.process.send_signal(signal.SIGKILL)
    service.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker_pid), "the worker outlived its service"

    _start(run_mlsec, env)

    async def read_job() -> dict[str, object]:
        async with create_http_client(settings) as http:
            client = TrainingClient("training", settings.url_for("training"), http, settings)
            return await client.get_training_job(str(job["id"]))

    after = asyncio.run(read_job())
    assert (after["status"], after["failure_reason"]) == ("failed", "interrupted")


def _alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for a reaper that a container may not have."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class _PeakMemory:
    """Samples a process's resident memory in a thread until stopped."""

    def __init__(self, pid: int):
        self.process = psutil.Process(pid)
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _csv_stream(total_bytes: int) -> Iterator[bytes]:
    yield b"text,label\n"
    block = b"".join(f"prompt number {i} ignore the rules please,{i % 2}\n".encode() for i in range(20_000))
    sent = 0
    while sent < total_bytes:
        yield block
        sent += len(block)


def test_a_200_mb_upload_keeps_memory_bounded(tmp_path: Path, run_mlsec: type[Running], mlflow_server: str) -> None:
    env = _env(tmp_path / "home", mlflow_server, MLSEC_TRAINING_MAX_LARGE_UPLOAD_BYTES=str(400 * 1024 * 1024))
    service = _start(run_mlsec, env)
    url = f"http://127.0.0.1:{env['MLSEC_TRAINING_PORT']}/data/efficient/upload-large-file"
    with _PeakMemory(service.process.pid) as memory:
        response = httpx.post(
            url, params={"filename": "big.csv", "name": "big"}, content=_csv_stream(200 * 1024 * 1024), timeout=300
        )
    assert response.status_code == 201, response.text
    dataset = response.json()["dataset"]
    assert dataset["size_bytes"] > 200 * 1024 * 1024
    assert dataset["rows"] > 3_000_000
    grown_mb = (memory.peak - memory.baseline) / 2**20
    print(f"training service memory grew by {grown_mb:.0f} MiB receiving and validating 200 MiB")
    assert grown_mb < 150, f"the service grew by {grown_mb:.0f} MiB while receiving 200 MiB"
    os.kill(service.process.pid, signal.SIGTERM)


def test_mlsec_train_shows_progress_metrics_and_the_run(
    tmp_path: Path, run_mlsec: type[Running], mlflow_server: str
) -> None:
    env = _env(tmp_path / "home", mlflow_server)
    _start(run_mlsec, env)
    data = tmp_path / "attacks.csv"
    data.write_bytes(prompts_csv(150, seed=9))
    cli = run_mlsec(
        [
            "train",
            "--model",
            "cli-detector",
            "--dataset",
            str(data),
            "--text-column",
            "prompt",
            "--label-column",
            "is_attack",
        ],
        {**env, "COLUMNS": "160"},
    )
    assert cli.wait(timeout=240) == 0, cli.output
    assert "uploaded" in cli.output and "cli-detector" in cli.output
    assert "100%" in cli.output
    assert any(line.strip().startswith("│ f1") for line in cli.lines), cli.output
    assert "registered version 1 as champion" in cli.output
    assert f"MLflow run: {mlflow_server}/#/experiments/" in cli.output

    missing = run_mlsec(["train", "--model", "never-configured"], env)
    assert missing.wait(timeout=60) == 2
    assert "no dataset given and no stored config" in missing.output
