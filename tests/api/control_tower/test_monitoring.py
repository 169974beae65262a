"""Monitored models (seed 004's add, remove, status, lists), kept in the database across restarts, with the caller
the platform authenticated."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from mlflow import MlflowClient
from pydantic import SecretStr

from mlsec.core.service_token import CALLER_HEADER, SERVICE_TOKEN_HEADER
from tests.api.control_tower.conftest import (
    MODEL,
    REGRESSOR,
    Registry,
    add_version,
    open_tower,
    platform_settings,
    unique,
)

pytestmark = pytest.mark.anyio


async def test_add_list_status_and_remove(tower: httpx.AsyncClient) -> None:
    added = await tower.post(
        f"/models/{MODEL}/1/monitor", json={"model_type": "classifier", "registered_by": "data_scientist_john"}
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["message"] == f"Model {MODEL} v1 added to monitoring as classifier"
    assert (body["model_name"], body["model_version"], body["model_type"]) == (MODEL, "1", "classifier")
    assert body["registered_by"] == "data_scientist_john"
    assert body["added_by"] == "api"  # called directly, without the service token: no caller identity
    assert body["registered_at"]

    status = (await tower.get(f"/models/{MODEL}/1/monitor/status")).json()
    assert status == {"model_name": MODEL, "model_version": "1", "is_monitored": True}
    assert (await tower.get(f"/models/{MODEL}/2/monitor/status")).json()["is_monitored"] is False
    monitored = (await tower.get("/models/monitored")).json()
    assert [(m["name"], m["version"], m["stage"]) for m in monitored] == [(MODEL, "1", "Production")]
    assert [m["name"] for m in (await tower.get("/models/monitored/classifier")).json()] == [MODEL]
    assert (await tower.get("/models/monitored/regressor")).json() == []
    assert (await tower.get("/dashboard/summary")).json()["monitored_models"] == 1

    debug = (await tower.get("/debug/monitored")).json()
    assert debug["monitored_count"] == 1
    entry = debug["monitored_list"][0]
    assert entry["registered_by"] == "data_scientist_john" and entry["in_registry"] is True and entry["run_id"]
    assert debug["mlflow_status"] == "connected"
    assert debug["model_details"][0]["name"] == MODEL

    removed = await tower.delete(f"/models/{MODEL}/1/monitor")
    assert removed.status_code == 200
    assert removed.json()["message"] == f"Model {MODEL} v1 removed from monitoring"
    assert (await tower.get("/models/monitored")).json() == []
    again = await tower.delete(f"/models/{MODEL}/1/monitor")
    assert again.status_code == 404 and again.json()["message"] == "Model is not being monitored"


async def test_the_seeds_error_cases(tower: httpx.AsyncClient) -> None:
    first = await tower.post(f"/models/{REGRESSOR}/1/monitor", json={"model_type": "regressor"})
    assert first.status_code == 201
    assert first.json()["registered_by"] == "api"  # no registered_by: the caller
    twice = await tower.post(f"/models/{REGRESSOR}/1/monitor", json={"model_type": "regressor"})
    assert twice.status_code == 400 and twice.json()["message"] == "Model is already being monitored"
    bad_type = await tower.post(f"/models/{MODEL}/2/monitor", json={"model_type": "ranker"})
    assert bad_type.status_code == 400
    assert bad_type.json()["message"] == "Invalid model type. Must be classifier or regressor"
    missing = await tower.post(f"/models/{MODEL}/99/monitor", json={"model_type": "classifier"})
    assert missing.status_code == 404 and missing.json()["message"] == "Model not found in MLflow"
    unknown = await tower.post("/models/no-such-model/1/monitor", json={"model_type": "classifier"})
    assert unknown.status_code == 404
    assert [m["name"] for m in (await tower.get("/models/monitored/regressor")).json()] == [REGRESSOR]


@pytest.mark.parametrize(
    "body",
    [{}, {"model_type": 3}, {"model_type": "classifier", "registered_by": "x" * 201}, {"model_type": "c" * 65}, []],
)
async def test_malformed_bodies_are_422(tower: httpx.AsyncClient, body: object) -> None:
    response = await tower.post(f"/models/{MODEL}/1/monitor", json=body)
    assert response.status_code == 422, response.text


async def test_an_alias_names_the_version_it_points_to(tower: httpx.AsyncClient) -> None:
    added = await tower.post(f"/models/{MODEL}/challenger/monitor", json={"model_type": "Classifier"})
    assert added.status_code == 201
    assert (added.json()["model_version"], added.json()["model_type"]) == ("2", "classifier")
    assert (await tower.get(f"/models/{MODEL}/challenger/monitor/status")).json()["is_monitored"] is True
    assert (await tower.delete(f"/models/{MODEL}/challenger/monitor")).json()["model_version"] == "2"


async def test_a_version_registered_after_the_last_refresh_is_found_in_mlflow(
    tower: httpx.AsyncClient, registry: Registry
) -> None:
    client = MlflowClient(registry.url, registry_uri=registry.url)
    name = unique("fresh")
    client.create_registered_model(name)
    add_version(client, client.create_experiment(name), name, {"accuracy": 0.9})
    added = await tower.post(f"/models/{name}/1/monitor", json={"model_type": "classifier"})
    assert added.status_code == 201, added.text


async def test_monitoring_survives_a_restart_with_who_added_it(home: Path, registry: Registry) -> None:
    token = "t" * 40
    settings = platform_settings(home, registry.url, service_token=SecretStr(token))
    proof = {SERVICE_TOKEN_HEADER: token}
    async for tower in open_tower(settings):
        added = await tower.post(
            f"/models/{MODEL}/3/monitor",
            json={"model_type": "classifier"},
            headers={**proof, CALLER_HEADER: "user:alice"},
        )
        assert added.status_code == 201
        assert added.json()["added_by"] == "user:alice"
    async for tower in open_tower(settings):
        assert (await tower.get(f"/models/{MODEL}/3/monitor/status", headers=proof)).json()["is_monitored"] is True
        entry = (await tower.get("/debug/monitored", headers=proof)).json()["monitored_list"][0]
        assert (entry["added_by"], entry["model_version"]) == ("user:alice", "3")
