"""Consent before training, with the data-privacy service down for real (its URL a closed port): a dataset with
subject hashes is refused with 503 saying so and how to turn the check off; a dataset without any trains, since
it never asks; with the check off, nothing is asked."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mlsec.core.settings import Settings
from mlsec.services.training.app import create_app
from mlsec.services.training.settings import TrainingSettings
from tests.api.training.conftest import prompts_csv, upload
from tests.conftest import make_settings, started_client

pytestmark = pytest.mark.anyio


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def service_settings(tmp_path: Path, mlflow_server: str) -> Settings:
    return make_settings(
        tmp_path / "home", mlflow_tracking_uri=mlflow_server, data_privacy_url=f"http://127.0.0.1:{closed_port()}"
    )


def with_an_email() -> bytes:
    lines = prompts_csv().decode().splitlines()
    lines[5] = lines[5].replace(",", " - write to carol@example.com,", 1)
    return ("\n".join(lines) + "\n").encode()


async def client_with(settings: Settings, consent_check: str) -> AsyncIterator[httpx.AsyncClient]:
    own = TrainingSettings(
        _env_file=None, bootstrap_default_model=False, registry_refresh_seconds=3600, consent_check=consent_check
    )
    async for http in started_client(create_app(settings, own)):
        yield http


async def train(client: httpx.AsyncClient, model: str, dataset: str) -> httpx.Response:
    response = await client.post("/training/train", json={"model_name": model, "dataset": dataset})
    if response.status_code == 202:  # the job itself is not what these tests are about
        await client.post(f"/training/jobs/{response.json()['id']}/cancel")
    return response


async def test_required_consent_with_data_privacy_unreachable(service_settings: Settings) -> None:
    async for client in client_with(service_settings, "required"):
        assert (await upload(client, with_an_email(), name="with-pii")).status_code == 201
        assert (await upload(client, prompts_csv(seed=9), name="without-pii")).status_code == 201

        refused = await train(client, "consent-model", "with-pii")
        assert refused.status_code == 503, refused.text
        message = refused.json()["message"]
        assert "data-privacy service is unreachable" in message
        assert "'with-pii' version 1" in message
        assert "MLSEC_TRAINING_CONSENT_CHECK=off" in message
        assert (await client.get("/training/jobs")).json()["total"] == 0  # nothing queued

        assert (await train(client, "consent-model", "without-pii")).status_code == 202  # never asked


async def test_consent_check_off_never_asks(service_settings: Settings) -> None:
    async for client in client_with(service_settings, "off"):
        assert (await upload(client, with_an_email(), name="with-pii")).status_code == 201
        assert (await train(client, "consent-off-model", "with-pii")).status_code == 202
