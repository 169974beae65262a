"""The CLI's configuration commands and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlsec.cli import app
from mlsec.core.migrations import head_revision
from mlsec.core.services import SERVICES
from tests.servers import free_port

runner = CliRunner()


def test_config_prints_effective_values_with_secrets_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_URL", "postgresql://app:topsecret@db:5432/x")
    monkeypatch.setenv("MLSEC_GATEWAY_PORT", "9107")
    result = runner.invoke(app, ["config", "--json"])
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown["MLSEC_GATEWAY_PORT"] == "9107"
    assert shown["POSTGRES_URL"] == "postgresql://app:***@db:5432/x"
    assert "topsecret" not in result.stdout


def test_invalid_value_is_one_line_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSEC_TRACING_PORT", "not-a-port")
    result = runner.invoke(app, ["up"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "MLSEC_TRACING_PORT" in lines[0]
    assert "Traceback" not in result.output


def test_unknown_service_is_refused() -> None:
    result = runner.invoke(app, ["serve", "no-such-service"])
    assert result.exit_code == 2
    assert "unknown service 'no-such-service'" in result.output


def test_status_reports_down_services(monkeypatch: pytest.MonkeyPatch) -> None:
    for index, name in enumerate(
        [
            "MODEL_API",
            "TRAINING",
            "MODEL_CACHE",
            "BUSINESS_METRICS",
            "ANALYTICS",
            "GATEWAY",
            "DATA_PRIVACY",
            "TRACING",
            "CONTROL_TOWER",
        ]
    ):
        monkeypatch.setenv(f"MLSEC_{name}_PORT", str(1 + index))  # nothing listens on these
    monkeypatch.setenv("MLSEC_HTTP_RETRIES", "0")
    result = runner.invoke(app, ["status", "--json"])
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert len(rows) == 9
    assert {row["status"] for row in rows} == {"down"}


def test_db_upgrade_brings_every_database_to_head() -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    for spec in SERVICES:
        assert f"{spec.name}: at {head_revision(spec.key)}" in result.stdout
    assert result.stdout.count(": at ") == len(SERVICES)


def test_serve_config_prints_the_services_settings_with_secrets_masked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret")
    monkeypatch.setenv("CACHE_REFRESH_INTERVAL_MINUTES", "7")
    result = runner.invoke(app, ["serve", "control-tower", "--config", "--host", "0.0.0.0", "--port", "9010"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["service"] == "control-tower" and shown["url"].endswith(":9010")
    assert shown["platform"]["MLSEC_HOST"] == "0.0.0.0"
    own = shown["ControlTowerSettings"]
    assert (own["mlflow_username"], own["mlflow_password"], own["cache_refresh_interval_minutes"]) == (
        "alice",
        "***",
        7,
    )
    assert "s3cret" not in result.stdout


def test_serve_refuses_mock_data_in_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLSEC_HOME", str(tmp_path))
    monkeypatch.setenv("ENABLE_MOCK_DATA", "true")
    monkeypatch.setenv("MLSEC_CONTROL_TOWER_PORT", str(free_port()))
    result = runner.invoke(app, ["serve", "control-tower"])
    assert result.exit_code == 2, result.output
    assert "ENABLE_MOCK_DATA=true is refused" in result.output and "Traceback" not in result.output
