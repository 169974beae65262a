"""`mlsec redteam` against a real model API (a real MLflow server, a trained and registered detector) and a
real analytics service, both under uvicorn in threads: the report, where it goes, and the exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from mlsec.cli import app
from mlsec.ml.redteam import SEED_PROMPTS, generate_attacks
from mlsec.services.analytics.app import create_app as create_analytics
from mlsec.services.model_api.app import create_app as create_model_api
from mlsec.services.model_api.settings import ModelApiSettings
from tests.api.analytics.conftest import analytics_settings
from tests.api.conftest import register
from tests.conftest import make_settings
from tests.servers import ThreadedServer, free_port

MODEL = "redteam-cli-detector"
runner = CliRunner()


@pytest.fixture(scope="module")
def servers(mlflow_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A registered detector served by the model API (batches of at most 25 texts), and analytics."""
    home = tmp_path_factory.mktemp("redteam-cli")
    version = register(mlflow_server, home, MODEL)
    settings = make_settings(home, mlflow_tracking_uri=mlflow_server)
    own = ModelApiSettings(_env_file=None, default_model=MODEL, max_batch_items=25, alias_poll_seconds=30.0)
    api = ThreadedServer(create_model_api(settings, own)).start()
    httpx.post(f"{api.url}/predict", json={"text": "hello"}, timeout=60).raise_for_status()  # loaded before any CLI run
    analytics = ThreadedServer(create_analytics(settings, analytics_settings())).start()
    yield {"model_api": api.url, "analytics": analytics.url, "version": version}
    api.stop()
    analytics.stop()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, servers: dict[str, str]) -> pytest.MonkeyPatch:
    monkeypatch.setenv("MODEL_API_URL", servers["model_api"])
    monkeypatch.setenv("ANALYTICS_URL", servers["analytics"])
    monkeypatch.setenv("MLSEC_HTTP_RETRIES", "0")
    return monkeypatch


def stored_runs(servers: dict[str, str]) -> dict[str, Any]:
    return dict(httpx.get(f"{servers['analytics']}/red-team/runs", params={"model_name": MODEL}).json())


def test_json_report_is_consistent_and_stored(env: pytest.MonkeyPatch, servers: dict[str, str]) -> None:
    result = runner.invoke(app, ["redteam", MODEL, "-t", "plain", "-t", "base64", "--variants", "2", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)  # stdout holds the JSON alone
    report = answer["report"]
    assert (answer["model_name"], answer["model_version"]) == (MODEL, servers["version"])
    expected = generate_attacks(SEED_PROMPTS, ["plain", "base64"], variants_per_seed=2)
    assert report["attempts"] == len(expected) > 25  # more than one batch
    assert [t["technique"] for t in report["techniques"]] == ["plain", "base64"]
    for technique in report["techniques"]:
        assert 0 <= technique["detected"] <= technique["attempts"]
        assert technique["detection_rate"] == pytest.approx(technique["detected"] / technique["attempts"])

    stored = httpx.get(f"{servers['analytics']}/red-team/runs/{answer['run_id']}").json()
    assert (stored["source"], stored["model_version"]) == ("upload", servers["version"])
    assert stored["techniques"] == report["techniques"]


def test_table_per_technique_and_no_store(env: pytest.MonkeyPatch, servers: dict[str, str]) -> None:
    before = stored_runs(servers)["total"]
    result = runner.invoke(app, ["redteam", MODEL, "--technique", "hex", "-t", "plain", "--no-store"])
    assert result.exit_code == 0, result.output
    assert f"red team: {MODEL} version {servers['version']}" in result.stdout
    assert "hex" in result.stdout
    assert "plain" in result.stdout
    assert "stored as" not in result.stdout
    assert stored_runs(servers)["total"] == before


def test_analytics_down_still_prints_the_report(env: pytest.MonkeyPatch, servers: dict[str, str]) -> None:
    env.setenv("ANALYTICS_URL", f"http://127.0.0.1:{free_port()}")
    result = runner.invoke(app, ["redteam", MODEL, "-t", "plain", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["run_id"] is None
    assert "not stored in analytics" in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["redteam", "no-such-model", "-t", "plain"], "not served by the model API"),
        (["redteam", MODEL, "--version", "99", "-t", "plain"], "not served by the model API"),
        (["redteam", MODEL, "-t", "nope"], "known techniques: plain"),
        (["redteam", MODEL, "-t", "plain", "-t", "plain"], "more than once"),
    ],
)
def test_what_cannot_be_attacked_exits_2(env: pytest.MonkeyPatch, args: list[str], needle: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert needle in result.stderr
    assert result.stdout == ""


def test_model_api_down_exits_2(env: pytest.MonkeyPatch) -> None:
    env.setenv("MODEL_API_URL", f"http://127.0.0.1:{free_port()}")
    result = runner.invoke(app, ["redteam", MODEL, "-t", "plain"])
    assert result.exit_code == 2
    assert "model API is unavailable" in result.stderr
