"""The training page through HTTP: what a viewer and an operator get, its parts, a service down, and the jobs,
datasets and run it shows when the training service answers (its answers built from the service's own schemas,
so the templates read the real shapes).

A unit test of the page's loaders and templates: where it needs a service to answer, the SDK's method is
replaced by a double built from that service's own schemas (the real platform's answers are the browser
tests' part, tests/browser/)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mlsec.client import ServiceCallError
from mlsec.client.main import MainAPIClient
from mlsec.core.auth import Role
from mlsec.services.training.schemas.datasets import DatasetList, DatasetRead
from mlsec.services.training.schemas.jobs import JobDetail, JobList, JobRead
from tests.api.gateway.security_support import Gateway, sign_in_as

pytestmark = pytest.mark.anyio
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
RUN_URL = "http://127.0.0.1:5000/#/experiments/1/runs/abc123"


def _job(job_id: str, status: str, progress: int, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": job_id,
        "model_name": "security-classifier",
        "kind": "train",
        "status": status,
        "progress": progress,
        "step": "fitting",
        "config": {},
        "dataset_ids": [1],
        "metrics": {},
        "error": None,
        "failure_reason": None,
        "mlflow_run_id": None,
        "mlflow_experiment_id": None,
        "model_version": None,
        "alias": None,
        "training_seconds": None,
        "created_at": NOW,
        "started_at": NOW,
        "finished_at": None,
        **fields,
    }
    return JobRead.model_validate(values).model_dump(mode="json")


DONE = _job(
    "0123456789abcdef",
    "succeeded",
    100,
    metrics={"f1": 0.9512, "accuracy": 0.96},
    mlflow_run_id="abc123",
    mlflow_experiment_id="1",
    model_version="3",
    alias="challenger",
    training_seconds=12.5,
    finished_at=NOW,
)
RUNNING = _job("fedcba9876543210", "running", 40)
DATASET = DatasetRead.model_validate(
    {
        "id": 1,
        "name": "security-prompts-train",
        "version": 2,
        "filename": "train.csv",
        "format": "csv",
        "sha256": "0" * 64,
        "size_bytes": 20480,
        "rows": 1200,
        "task": "text_classification",
        "text_column": "text",
        "label_column": "label",
        "feature_columns": None,
        "columns": ["text", "label"],
        "label_counts": {"0": 800, "1": 400},
        "pii_counts": {"EMAIL_ADDRESS": 3},
        "created_at": NOW,
    }
)


def _answering(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    """The training service and MLflow answer the page's calls (the rest of the platform stays down)."""
    sdk: MainAPIClient = gateway.app.state.sdk

    async def jobs(**params: Any) -> dict[str, Any]:
        listed = [DONE] if params.get("status") == "succeeded" else [RUNNING, DONE]
        return JobList(jobs=listed, total=len(listed), limit=20, offset=0).model_dump(mode="json")

    async def job(job_id: str) -> dict[str, Any]:
        if job_id != DONE["id"]:
            raise ServiceCallError("training", "no such job", status_code=404)
        logs = [{"ts": NOW, "message": "registered security-classifier version 3 as challenger"}]
        return JobDetail.model_validate({**DONE, "logs": logs, "mlflow_run_url": RUN_URL}).model_dump(mode="json")

    async def datasets() -> dict[str, Any]:
        return DatasetList(datasets=[DATASET], count=1).model_dump(mode="json")

    async def artifacts(run_id: str, *, path: str | None = None) -> dict[str, Any]:
        files = [
            {"path": "confusion_matrix.png", "is_dir": False, "file_size": 1000},
            {"path": "roc_curve.png", "is_dir": False, "file_size": 1000},
            {"path": "classification_report.json", "is_dir": False, "file_size": 100},
            {"path": "reference", "is_dir": True},
        ]
        return {"root_uri": f"mlflow-artifacts:/1/{run_id}/artifacts", "files": files}

    monkeypatch.setattr(sdk.training, "get_training_jobs", jobs)
    monkeypatch.setattr(sdk.training, "get_training_job", job)
    monkeypatch.setattr(sdk.training, "get_datasets", datasets)
    monkeypatch.setattr(sdk.mlflow, "list_artifacts", artifacts)


async def test_a_viewer_sees_the_page_without_any_write_control(gateway: Gateway) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    page = await gateway.http.get("/ui/training")
    assert page.status_code == 200
    assert 'main id="content" data-page="training"' in page.text and "<title>Training" in page.text
    assert 'data-topics="training"' in page.text and "/static/pages/training.js" in page.text
    assert "write-control" not in page.text and "admin-control" not in page.text
    assert 'id="train-form"' not in page.text and 'id="dataset-file"' not in page.text
    assert 'id="run-plots"' in page.text


async def test_an_operator_gets_the_upload_and_the_train_form(gateway: Gateway) -> None:
    await sign_in_as(gateway, Role.OPERATOR)
    page = (await gateway.http.get("/ui/training")).text
    assert '<input id="dataset-file" type="file"' in page
    assert '<button id="dataset-upload" class="write-control" type="submit">' in page
    assert '<progress id="dataset-upload-progress" max="1" value="0"' in page
    assert '<form id="train-form">' in page and 'value="security-classifier"' in page
    assert '<button id="train-submit" class="write-control" type="submit">' in page
    assert 'id="retrain-submit" class="write-control secondary"' in page
    assert "admin-control" not in page


async def test_with_the_training_service_down_every_part_says_so(gateway: Gateway) -> None:
    await sign_in_as(gateway, Role.ADMIN)
    page = await gateway.http.get("/ui/training")
    assert page.status_code == 200
    assert "Jobs unavailable: training: unreachable" in page.text
    assert "Datasets unavailable: training: unreachable" in page.text
    for part in ("jobs", "datasets", "plots"):
        answer = await gateway.http.get(f"/ui/training/partials/{part}")
        assert answer.status_code == 200, part
        assert "unavailable" in answer.text, part


async def test_jobs_show_their_progress_and_status_for_the_live_updates(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.OPERATOR)
    _answering(gateway, monkeypatch)
    page = (await gateway.http.get("/ui/training")).text
    assert 'id="jobs"' in page and 'id="datasets"' in page
    assert '<tr data-job-id="fedcba9876543210" data-status="running">' in page
    assert '<progress class="job-progress" max="1" value="0.4"' in page
    assert '<td class="job-status status-running"' in page
    assert '<progress class="job-progress" max="1" value="1.0"' in page
    assert 'class="secondary write-control cancel-job" data-job-id="fedcba9876543210"' in page
    assert 'hx-get="/ui/training/partials/plots?job=0123456789abcdef"' in page
    assert '<tr data-dataset="security-prompts-train">' in page and "0: 800, 1: 400" in page
    assert "EMAIL_ADDRESS: 3" in page  # the personal data the upload's scan found
    assert '<option value="security-prompts-train">security-prompts-train (v2, 1,200 rows)</option>' in page
    jobs = await gateway.http.get("/ui/training/partials/jobs")
    assert jobs.status_code == 200 and 'data-job-id="0123456789abcdef"' in jobs.text


async def test_a_viewer_gets_no_cancel_button(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    page = (await gateway.http.get("/ui/training")).text
    assert 'data-job-id="fedcba9876543210"' in page
    assert "write-control" not in page and "cancel-job" not in page


async def test_the_run_shows_its_metrics_plots_and_mlflow_link(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    newest = await gateway.http.get("/ui/training/partials/plots")
    assert newest.status_code == 200
    assert 'data-job-id="0123456789abcdef"' in newest.text and "version 3" in newest.text
    assert f'<a class="mlflow-run" href="{RUN_URL}"' in newest.text
    assert "0.9512" in newest.text and "confusion_matrix.png" in newest.text and "roc_curve.png" in newest.text
    assert "classification_report.json" not in newest.text
    chosen = await gateway.http.get("/ui/training/partials/plots", params={"job": "0123456789abcdef"})
    assert chosen.status_code == 200 and "roc_curve.png" in chosen.text
    missing = await gateway.http.get("/ui/training/partials/plots", params={"job": "nope"})
    assert missing.status_code == 200 and "unavailable" in missing.text
    odd = await gateway.http.get("/ui/training/partials/plots", params={"job": "../../x"})
    assert odd.status_code == 200 and 'data-job-id="0123456789abcdef"' in odd.text  # not a job id: the newest run


async def test_the_parts_need_a_session(gateway: Gateway) -> None:
    page = await gateway.http.get("/ui/training")
    assert page.status_code == 303 and page.headers["location"] == "/ui/sign-in?next=/ui/training"
    part = await gateway.http.get("/ui/training/partials/jobs")
    assert part.status_code == 401
