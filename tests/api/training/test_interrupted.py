"""A job that never finished leaves no model version behind, whether its service crashed or stopped."""

from __future__ import annotations

import uuid
from pathlib import Path

import anyio
import pytest
from mlflow import MlflowClient

from mlsec.core.database import Database
from mlsec.core.settings import Settings
from mlsec.services.training.app import create_app
from mlsec.services.training.models import TrainingJob
from mlsec.services.training.settings import TrainingSettings
from tests.api.conftest import register
from tests.conftest import started_client, wait_started

pytestmark = pytest.mark.anyio


async def _registered_run(mlflow_server: str, folder: Path, name: str) -> str:
    """A model trained, registered and aliased by a worker whose job the service never saw finish: its run id."""
    version = await anyio.to_thread.run_sync(lambda: register(mlflow_server, folder, name))
    client = MlflowClient(mlflow_server)
    assert client.get_model_version_by_alias(name, "champion").version == version
    return str(client.get_model_version(name, version).run_id)


def _running_job(name: str, run_id: str) -> TrainingJob:
    return TrainingJob(
        id=uuid.uuid4().hex,
        model_name=name,
        kind="train",
        status="running",
        step="registering model",
        config={},
        dataset_ids=[],
        mlflow_run_id=run_id,
    )


def _versions(mlflow_server: str, run_id: str) -> list[object]:
    return list(MlflowClient(mlflow_server).search_model_versions(f"run_id = '{run_id}'"))


async def test_a_crash_after_registering_leaves_no_half_registered_version(
    service_settings: Settings, training_settings: TrainingSettings, mlflow_server: str, tmp_path: Path
) -> None:
    name = f"crashed-{uuid.uuid4().hex[:8]}"
    run_id = await _registered_run(mlflow_server, tmp_path, name)
    async for _ in started_client(create_app(service_settings, training_settings)):
        pass  # the database exists, with its tables
    database = Database(service_settings.database_url_for("training"))
    job = _running_job(name, run_id)
    async with database.session() as session:  # what a kill -9 mid-registration leaves in the database
        session.add(job)
    await database.dispose()

    async for http in started_client(create_app(service_settings, training_settings)):
        await wait_started(http)
        after = (await http.get(f"/training/jobs/{job.id}")).json()
        assert (after["status"], after["failure_reason"]) == ("failed", "interrupted")
    assert _versions(mlflow_server, run_id) == []
    assert MlflowClient(mlflow_server).get_registered_model(name).aliases == {}
    assert MlflowClient(mlflow_server).get_run(run_id).info.status == "KILLED"


async def test_a_stop_during_registration_leaves_no_half_registered_version(
    service_settings: Settings, training_settings: TrainingSettings, mlflow_server: str, tmp_path: Path
) -> None:
    name = f"stopped-{uuid.uuid4().hex[:8]}"
    run_id = await _registered_run(mlflow_server, tmp_path, name)
    app = create_app(service_settings, training_settings)
    async for http in started_client(app):
        await wait_started(http)
        async with app.state.ctx.db.session() as session:
            session.add(_running_job(name, run_id))
    assert _versions(mlflow_server, run_id) == []
    assert MlflowClient(mlflow_server).get_run(run_id).info.status == "KILLED"
