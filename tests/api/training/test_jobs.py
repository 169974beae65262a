"""`/training/*` and `/models/*` with real jobs in a real process pool, registered in a real MLflow."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from mlflow import MlflowClient

from mlsec.core.settings import Settings
from tests.api.training.conftest import prompts_csv, upload, wait_for_job

pytestmark = pytest.mark.anyio


async def test_train_registers_champion_then_challenger(client: httpx.AsyncClient, service_settings: Settings) -> None:
    model = "detector-a"
    await upload(client, prompts_csv(seed=3), name="attacks-a")
    started = await client.post("/training/train", json={"model_name": model, "dataset": "attacks-a"})
    assert started.status_code == 202, started.text
    job = await wait_for_job(client, started.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["progress"] == 100
    assert job["seen_progress"] == sorted(job["seen_progress"])
    assert job["alias"] == "champion"
    assert job["metrics"]["f1"] > 0.9
    assert job["mlflow_run_url"].startswith(service_settings.mlflow_uri)
    assert any("registered" in line["message"] for line in job["logs"])

    mlflow = MlflowClient(service_settings.mlflow_uri)
    run = mlflow.get_run(job["mlflow_run_id"])
    assert (
        run.data.params["data_sha256"] == (await client.get("/data/datasets/attacks-a")).json()["datasets"][0]["sha256"]
    )
    artifacts = {a.path for a in mlflow.list_artifacts(run.info.run_id)}
    assert {
        "confusion_matrix.png",
        "roc_curve.png",
        "pr_curve.png",
        "classification_report.json",
        "training_data.json",
        "reference",
    } <= artifacts
    references = {a.path for a in mlflow.list_artifacts(run.info.run_id, "reference")}
    assert references == {"reference/profile.json", "reference/projection.npz"}
    version = mlflow.get_model_version_by_alias(model, "champion")
    assert version.version == job["model_version"]
    assert 0 < float(version.tags["mlsec.threshold"]) < 1

    feedback = await upload(client, prompts_csv(40, seed=5), name=f"{model}-feedback")
    again = await client.post("/training/retrain", json={"model_name": model, "reason": "test"})
    assert again.status_code == 202
    assert again.json()["dataset_ids"] == [job["dataset_ids"][0], feedback.json()["dataset"]["id"]]
    second = await wait_for_job(client, again.json()["id"])
    assert (second["status"], second["alias"], second["kind"]) == ("succeeded", "challenger", "retrain")

    models = (await client.get("/models/models", params={"refresh": True})).json()
    entry = next(m for m in models["models"] if m["name"] == model)
    assert (entry["champion_version"], entry["challenger_version"]) == (job["model_version"], second["model_version"])
    registry = (await client.get("/models/model-registry")).json()
    stages = {v["version"]: v["stage"] for m in registry["models"] if m["name"] == model for v in m["versions"]}
    assert stages == {job["model_version"]: "Production", second["model_version"]: "Staging"}
    latest = (await client.get("/models/latest-models")).json()
    assert any(m["name"] == model and m["version"] == second["model_version"] for m in latest["models"])
    one = (await client.get(f"/models/models/{model}")).json()
    assert len(one["versions"]) == 2

    listed = (await client.get("/training/jobs", params={"model_name": model, "limit": 1})).json()
    assert listed["total"] == 2 and len(listed["jobs"]) == 1 and listed["jobs"][0]["id"] == second["id"]
    by_kind = (await client.get("/training/jobs", params={"kind": "retrain"})).json()
    assert [j["id"] for j in by_kind["jobs"]] == [second["id"]]
    finished = await client.post(f"/training/jobs/{job['id']}/cancel")
    assert finished.status_code == 409


async def test_a_running_job_can_be_cancelled(client: httpx.AsyncClient) -> None:
    await upload(client, prompts_csv(seed=4), name="attacks-b")
    started = (await client.post("/training/train", json={"model_name": "detector-b", "dataset": "attacks-b"})).json()
    for _ in range(200):
        if (await client.get(f"/training/jobs/{started['id']}")).json()["status"] == "running":
            break
        await asyncio.sleep(0.05)
    cancelled = await client.post(f"/training/jobs/{started['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["failure_reason"] == "cancelled"
    assert (await client.get("/training/jobs", params={"status": "cancelled"})).json()["total"] == 1


async def test_bad_training_requests(client: httpx.AsyncClient) -> None:
    await upload(client, prompts_csv(), name="attacks-c")
    no_data = await client.post("/training/train", json={"model_name": "fresh"})
    assert no_data.status_code == 422
    assert "no dataset" in no_data.json()["message"]
    unknown = await client.post("/training/train", json={"model_name": "m", "dataset": "missing"})
    assert unknown.status_code == 404
    wrong_task = await client.post(
        "/training/train", json={"model_name": "m", "dataset": "attacks-c", "task": "tabular_regression"}
    )
    assert wrong_task.status_code == 422
    bad_params = await client.post(
        "/training/train", json={"model_name": "m", "dataset": "attacks-c", "params": {"c": "strong"}}
    )
    assert bad_params.status_code == 422
    bad_name = await client.post("/training/train", json={"model_name": "no spaces allowed", "dataset": "attacks-c"})
    assert bad_name.status_code == 422
    assert (await client.post("/training/retrain", json={"model_name": "never-configured"})).status_code == 404
    assert (await client.get("/training/jobs/nope")).status_code == 404
    assert (await client.post("/training/jobs/nope/cancel")).status_code == 404
    assert (await client.get("/training/jobs", params={"limit": 0})).status_code == 422
    assert (await client.get("/training/jobs", params={"status": "sleeping"})).status_code == 422
    assert (await client.get("/models/models/not-registered", params={"refresh": True})).status_code == 404


def _tabular_csv(task: str) -> bytes:
    import random

    rng = random.Random(1)
    lines = ["size,colour,weight,label"]
    for _ in range(300):
        size, colour = rng.uniform(0, 10), rng.choice(["red", "green", "blue"])
        weight = size * 2 + rng.gauss(0, 0.5)
        label = int(size > 5) if task == "tabular_classification" else round(size * 3 + weight, 3)
        lines.append(f"{size:.3f},{colour},{weight:.3f},{label}")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(("task", "metric"), [("tabular_classification", "f1"), ("tabular_regression", "r2")])
async def test_tabular_models_train_from_csv(client: httpx.AsyncClient, task: str, metric: str) -> None:
    uploaded = await client.post(
        "/data/upload-data",
        data={"task": task, "label_column": "label", "name": task},
        files={"file": ("table.csv", _tabular_csv(task))},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["dataset"]["text_column"] is None
    started = await client.post(
        "/training/train",
        json={"model_name": f"{task}-model", "dataset": task, "task": task, "params": {"n_estimators": 50}},
    )
    assert started.status_code == 202, started.text
    job = await wait_for_job(client, started.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["metrics"][metric] > 0.8
