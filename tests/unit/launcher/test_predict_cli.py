"""`mlsec predict` refuses ambiguous input before calling any service, and says when it cannot reach one."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlsec.cli import app

runner = CliRunner()


def test_text_or_file_but_not_both(tmp_path: Path) -> None:
    assert runner.invoke(app, ["predict"]).exit_code == 2
    prompts = tmp_path / "p.txt"
    prompts.write_text("hello\n")
    both = runner.invoke(app, ["predict", "hello", "--file", str(prompts)])
    assert both.exit_code == 2
    assert "not both" in both.output


def test_unreachable_model_api_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSEC_MODEL_API_PORT", "1")
    monkeypatch.setenv("MLSEC_HTTP_RETRIES", "0")
    result = runner.invoke(app, ["predict", "hello"])
    assert result.exit_code == 2
    assert "model-api: unreachable" in result.output
