"""Seed 004's read routes against a real MLflow server holding its examples: shapes, stages, metrics, bad input."""

from __future__ import annotations

import httpx
import pytest
from mlflow import MlflowClient

from tests.api.control_tower.conftest import MODEL, REGRESSOR, SEED_METRICS, Registry, add_version, unique

pytestmark = pytest.mark.anyio

MODEL_INFO_FIELDS = {
    "name",
    "version",
    "stage",
    "creation_timestamp",
    "last_updated_timestamp",
    "description",
    "tags",
    "metrics",
    "model_type",
    "run_id",
    "aliases",
}


async def test_root_health_and_config_have_the_seeds_fields(tower: httpx.AsyncClient, registry: Registry) -> None:
    root = (await tower.get("/")).json()
    assert root == {
        "message": "mlsec MLOps Control Tower API",
        "status": "ready",
        "version": root["version"],
        "docs": "/docs",
    }
    health = (await tower.get("/health")).json()
    assert health["status"] == "healthy"
    assert health["mlflow_connection"] == "connected"
    assert health["experiments_count"] >= 2  # MLflow's Default and the seed's experiment
    assert health["cache_stale"] is False
    config = (await tower.get("/config")).json()
    assert set(config) >= {"mlflow", "api", "features", "validation"}
    assert config["mlflow"] == {"tracking_uri": registry.url, "authentication": False}
    assert config["api"]["port"] == 8010
    assert config["features"]["mock_data_enabled"] is False
    assert config["validation"] == {"mlflow_configured": True, "api_port_valid": True, "log_level_valid": True}


async def test_production_is_the_champion_or_a_real_stage(tower: httpx.AsyncClient, registry: Registry) -> None:
    production = [m for m in (await tower.get("/models")).json() if m["name"] in (MODEL, REGRESSOR)]
    assert {(m["name"], m["version"]) for m in production} == {(MODEL, "1"), (REGRESSOR, "1")}
    assert (await tower.get("/models/production")).json() == (await tower.get("/models")).json()
    champion = next(m for m in production if m["name"] == MODEL)
    assert set(champion) == MODEL_INFO_FIELDS
    assert champion["stage"] == "Production"
    assert champion["aliases"] == ["champion"]
    assert champion["metrics"] == SEED_METRICS  # from the version's MLflow run
    assert champion["run_id"] == registry.run_ids[f"{MODEL}/1"]
    assert champion["tags"] == {"validated": "true"}
    assert champion["model_type"] == "classifier"  # from its metrics
    assert champion["creation_timestamp"].endswith("Z") or "+00:00" in champion["creation_timestamp"]
    regressor = next(m for m in production if m["name"] == REGRESSOR)
    assert regressor["aliases"] == [] and regressor["model_type"] == "regressor"


async def test_staging_is_the_challenger_and_a_real_stage_wins(tower: httpx.AsyncClient) -> None:
    staging = [m for m in (await tower.get("/models/staging")).json() if m["name"] in (MODEL, REGRESSOR)]
    assert [(m["name"], m["version"], m["aliases"]) for m in staging] == [(MODEL, "2", ["challenger"])]
    every = [m for m in (await tower.get("/models/all")).json() if m["name"] in (MODEL, REGRESSOR)]
    stages = {(m["name"], m["version"]): m["stage"] for m in every}
    assert stages == {
        (MODEL, "3"): "Archived",
        (MODEL, "2"): "Staging",
        (MODEL, "1"): "Production",
        (REGRESSOR, "1"): "Production",
    }
    assert [m["version"] for m in every if m["name"] == MODEL] == ["3", "2", "1"]


async def test_one_models_versions_newest_first(tower: httpx.AsyncClient) -> None:
    versions = (await tower.get(f"/model/{MODEL}/versions")).json()
    assert [v["version"] for v in versions] == ["3", "2", "1"]
    assert versions[2]["metrics"]["accuracy"] == 0.945
    assert set(versions[0]) == MODEL_INFO_FIELDS - {"name", "model_type"}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/model/no-such-model/versions", 404),
        ("/model/no-such-model/drift", 404),
        ("/model/bad%20name/versions", 422),
        ("/model/-leading-dash/versions", 422),
        (f"/model/{MODEL}/drift?days=0", 422),
        (f"/model/{MODEL}/drift?days=366", 422),
        (f"/model/{MODEL}/drift?days=ten", 422),
        (f"/models/{MODEL}/bad%20version/monitor/status", 422),
        (f"/models/{MODEL}/-1/monitor/status", 422),
        ("/runs/999999", 404),
        ("/runs/abc", 422),
        ("/runs/1?limit=0", 422),
        ("/runs/1?limit=1001", 422),
        ("/runs/1?limit=-5", 422),
    ],
)
async def test_bad_input_is_refused_in_the_envelope(tower: httpx.AsyncClient, path: str, status: int) -> None:
    response = await tower.get(path)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] is True and body["status_code"] == status


async def test_unknown_model_says_what_the_seed_says(tower: httpx.AsyncClient) -> None:
    body = (await tower.get("/model/no-such-model/versions")).json()
    assert body["message"] == "Model not found in MLflow"


async def test_experiments_and_runs(tower: httpx.AsyncClient, registry: Registry) -> None:
    experiments = (await tower.get("/experiments")).json()
    seed = next(e for e in experiments if e["experiment_id"] == registry.experiment_id)
    assert seed["name"] == "DNA_Analysis_Experiment"
    assert seed["tags"] == {"team": "genomics"}
    assert seed["lifecycle_stage"] == "active"
    assert seed["run_count"] == 4
    runs = (await tower.get(f"/runs/{registry.experiment_id}", params={"limit": 50})).json()
    assert len(runs) == 4
    assert {"run_id", "experiment_id", "status", "start_time", "end_time", "metrics", "params", "tags"} == set(runs[0])
    assert runs[0]["params"] == {"learning_rate": "0.001", "epochs": "100"}
    assert runs[0]["tags"]["mlflow.user"] == "john_doe"
    assert runs[0]["status"] == "FINISHED"
    starts = [r["start_time"] for r in runs]
    assert starts == sorted(starts, reverse=True)
    assert len((await tower.get(f"/runs/{registry.experiment_id}", params={"limit": 2})).json()) == 2


async def test_dashboard_summary_counts_the_registry(tower: httpx.AsyncClient, registry: Registry) -> None:
    summary = (await tower.get("/dashboard/summary")).json()
    every = (await tower.get("/models/all")).json()
    experiments = (await tower.get("/experiments")).json()
    assert summary["total_models"] == len(every) >= 4  # versions, as the seed counts ModelInfo
    assert summary["registered_models"] == len({m["name"] for m in every}) >= 2
    assert summary["production_models"] == sum(m["stage"] == "Production" for m in every) >= 2
    assert summary["staging_models"] == sum(m["stage"] == "Staging" for m in every) >= 1
    assert summary["monitored_models"] == len((await tower.get("/models/monitored")).json())
    assert summary["total_runs"] == sum(e["run_count"] for e in experiments) >= 4
    assert summary["total_experiments"] == len(experiments) >= 2
    assert summary["active_experiments"] == sum(e["lifecycle_stage"] == "active" for e in experiments)
    assert summary["is_stale"] is False and summary["last_updated"]


async def test_drift_has_each_versions_training_metrics_over_time(tower: httpx.AsyncClient) -> None:
    response = await tower.get(f"/model/{MODEL}/drift", params={"days": 7})
    assert response.status_code == 200
    drift = {v["version"]: v for v in response.json()}
    assert set(drift) == {"1", "2", "3"}
    assert drift["1"]["stage"] == "Production"
    point = drift["1"]["metrics_over_time"][0]
    assert point["source"] == "training_run"
    assert {k: point[k] for k in SEED_METRICS} == SEED_METRICS
    # Nothing answers as the analytics service here: the answer says which source is missing.
    assert response.headers["X-Mlsec-Unavailable"] == "analytics"


async def test_cache_info_and_a_refresh_that_sees_a_new_version(tower: httpx.AsyncClient, registry: Registry) -> None:
    info = (await tower.get("/cache/info")).json()
    assert set(info) == {"cache_info", "tracking_info", "system_status"}
    stats = info["cache_info"]
    assert stats["total_models"] >= 4
    assert stats["models_by_stage"]["Production"] >= 2
    assert stats["is_stale"] is False and stats["source"] == "mlflow"
    assert stats["persistence"]["enabled"] is True and stats["persistence"]["cache_file_exists"] is True
    assert info["system_status"] == {"mlflow_connected": True, "tracking_method": "cached", "cache_enabled": True}
    client = MlflowClient(registry.url, registry_uri=registry.url)
    name = unique("late")
    client.create_registered_model(name)
    add_version(client, client.create_experiment(name), name, {"accuracy": 0.5})
    assert name not in {m["name"] for m in (await tower.get("/models/all")).json()}
    refreshed = await tower.post("/cache/refresh")
    assert refreshed.status_code == 200
    body = refreshed.json()
    assert body["message"] == "Cache refreshed successfully"
    assert body["models_synced"] == body["cache_stats"]["total_models"]
    assert name in {m["name"] for m in (await tower.get("/models/all")).json()}


async def test_clearing_the_file(tower: httpx.AsyncClient) -> None:
    cleared = (await tower.delete("/cache/clear")).json()
    assert cleared["message"] == "Persistent cache cleared successfully"
    assert cleared["note"] == "Next startup will fetch fresh data from MLflow"
    info = (await tower.get("/cache/info")).json()
    assert info["cache_info"]["persistence"]["cache_file_exists"] is False
    assert (await tower.get("/models/all")).status_code == 200  # memory keeps answering
    again = (await tower.delete("/cache/clear")).json()
    assert again["message"] == "There was no persistent cache file"
