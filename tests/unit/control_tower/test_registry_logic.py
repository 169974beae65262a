"""The control tower's pure logic: stages from aliases, model types, MLflow's JSON, URLs without credentials."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mlsec.ml.registry import stage_of
from mlsec.services.control_tower.service.reader import run_record, when
from mlsec.services.control_tower.service.snapshot import RunRecord, VersionRecord
from mlsec.services.control_tower.service.system import without_credentials
from mlsec.services.control_tower.service.views import model_type_of


@pytest.mark.parametrize(
    ("aliases", "stage", "expected"),
    [
        (["champion"], None, "Production"),
        (["challenger"], "None", "Staging"),
        (["champion", "challenger"], None, "Production"),
        (["canary"], None, "None"),
        ([], None, "None"),
        (["champion"], "Archived", "Archived"),  # a real stage wins over the alias
        ([], "Staging", "Staging"),
    ],
)
def test_stage_of(aliases: list[str], stage: str | None, expected: str) -> None:
    assert stage_of(aliases, stage) == expected


def _version(**tags: str) -> VersionRecord:
    return VersionRecord(name="m", version="1", tags=tags)


def _run(*metrics: str, **tags: str) -> RunRecord:
    return RunRecord(run_id="r", experiment_id="1", status="FINISHED", metrics=dict.fromkeys(metrics, 0.5), tags=tags)


def test_model_type_from_tags_task_and_metrics() -> None:
    assert model_type_of(_version(model_type="regressor"), {}, _run("accuracy")) == "regressor"
    assert model_type_of(_version(), {"model_type": "classifier"}, None) == "classifier"
    assert model_type_of(_version(model_type="nonsense"), {}, None) is None
    assert model_type_of(_version(**{"mlsec.task": "tabular_regression"}), {}, None) == "regressor"
    assert model_type_of(_version(), {}, _run("f1", **{"mlsec.task": "text_classification"})) == "classifier"
    assert model_type_of(_version(), {}, _run("rmse", "r2")) == "regressor"
    assert model_type_of(_version(), {}, _run("loss")) is None


def test_mlflow_times_and_runs_as_the_rest_api_sends_them() -> None:
    assert when(None) is None and when("0") is None
    assert when("1700000000000") == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert when(1700000000000) == when("1700000000000")
    run = run_record(
        {
            "info": {"run_id": "abc", "experiment_id": "2", "status": "FINISHED", "start_time": "1700000000000"},
            "data": {
                "metrics": [
                    {"key": "f1", "value": 0.9, "timestamp": "1700000005000", "step": "0"},
                    {"key": "accuracy", "value": 0.95, "timestamp": 1700000009000},
                ],
                "params": [{"key": "epochs", "value": "10"}],
                "tags": [
                    {"key": "mlflow.user", "value": "ann"},
                    {"key": "mlflow.log-model.history", "value": "[...]"},
                    {"key": "long", "value": "x" * 5000},
                ],
            },
        }
    )
    assert (run.run_id, run.experiment_id, run.end_time) == ("abc", "2", None)
    assert run.metrics == {"f1": 0.9, "accuracy": 0.95}
    assert run.metrics_at == when(1700000009000)
    assert run.params == {"epochs": "10"}
    assert set(run.tags) == {"mlflow.user", "long"} and len(run.tags["long"]) == 1000


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("https://alice:s3cret@mlflow.example:8443/path", "https://mlflow.example:8443/path"),
        ("http://token@[::1]:5000", "http://[::1]:5000"),
    ],
)
def test_urls_lose_their_credentials(url: str, expected: str) -> None:
    assert without_credentials(url) == expected
