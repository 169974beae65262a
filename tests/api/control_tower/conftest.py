"""The control tower in process against its own real MLflow server, which holds seed 004's examples.

The registry (`seed_registry`): the seed's DNA_Analysis_Model with version 1 champion (Production), version 2
challenger (Staging) and version 3 given MLflow's own stage Archived; a regressor with a real Production stage and
no alias; each version backed by a run with the seed's metrics.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mlflow import MlflowClient

from mlsec.core.settings import Settings
from mlsec.services.control_tower.app import create_app
from mlsec.services.control_tower.settings import ControlTowerSettings
from tests.conftest import make_settings, started_client, wait_started
from tests.servers import MlflowServer

MODEL = "DNA_Analysis_Model"
REGRESSOR = "Price_Model"
SEED_METRICS = {"accuracy": 0.945, "precision": 0.928, "recall": 0.952, "f1_score": 0.940}


@dataclass
class Registry:
    url: str
    experiment_id: str
    run_ids: dict[str, str]  # "<model>/<version>" -> run id


def add_version(
    client: MlflowClient, experiment_id: str, name: str, metrics: dict[str, float], **tags: str
) -> tuple[str, str]:
    run = client.create_run(experiment_id, tags={"mlflow.user": "john_doe"})
    for key, value in metrics.items():
        client.log_metric(run.info.run_id, key, value)
    client.log_param(run.info.run_id, "learning_rate", "0.001")
    client.log_param(run.info.run_id, "epochs", "100")
    client.set_terminated(run.info.run_id)
    version = client.create_model_version(
        name, source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id, tags=tags, description=f"{name} build"
    )
    return str(version.version), run.info.run_id


def set_stage(client: MlflowClient, name: str, version: str, stage: str) -> None:
    """MLflow's own (deprecated) stage: what the control tower must still honour over the aliases."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        client.transition_model_version_stage(name, version, stage)


def seed_registry(url: str) -> Registry:
    """Seed 004's examples, registered in a real MLflow server."""
    client = MlflowClient(url, registry_uri=url)
    experiment_id = client.create_experiment("DNA_Analysis_Experiment", tags={"team": "genomics"})
    client.create_registered_model(
        MODEL, tags={"team": "genomics", "type": "classification"}, description="Main DNA sequence analysis model"
    )
    runs: dict[str, str] = {}
    for offset in range(3):
        metrics = {k: round(v - offset * 0.01, 3) for k, v in SEED_METRICS.items()}
        version, run_id = add_version(client, experiment_id, MODEL, metrics, validated="true")
        runs[f"{MODEL}/{version}"] = run_id
    client.set_registered_model_alias(MODEL, "champion", "1")
    client.set_registered_model_alias(MODEL, "challenger", "2")
    set_stage(client, MODEL, "3", "Archived")
    client.create_registered_model(REGRESSOR, tags={"model_type": "regressor"})
    version, run_id = add_version(client, experiment_id, REGRESSOR, {"rmse": 1.25, "r2": 0.81})
    runs[f"{REGRESSOR}/{version}"] = run_id
    set_stage(client, REGRESSOR, version, "Production")
    return Registry(url=url, experiment_id=str(experiment_id), run_ids=runs)


@pytest.fixture(scope="package")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    server = MlflowServer(tmp_path_factory.mktemp("control-tower-mlflow"))
    try:
        yield seed_registry(server.start().url)
    finally:
        server.stop()


def tower_settings(**overrides: Any) -> ControlTowerSettings:
    """No event subscription (no gateway here) unless a test asks for one."""
    values: dict[str, Any] = {"event_refresh": False}
    values.update(overrides)
    return ControlTowerSettings.model_validate(values)


def platform_settings(home: Path, mlflow_url: str, **overrides: Any) -> Settings:
    return make_settings(home, mlflow_tracking_uri=mlflow_url, **overrides)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


async def open_tower(settings: Settings, own: ControlTowerSettings | None = None) -> AsyncIterator[httpx.AsyncClient]:
    async for client in started_client(create_app(settings, own or tower_settings())):
        await wait_started(client)
        yield client


@pytest.fixture
async def tower(home: Path, registry: Registry) -> AsyncIterator[httpx.AsyncClient]:
    """A started control tower whose first read of MLflow is done."""
    async for client in open_tower(platform_settings(home, registry.url)):
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"
