"""When MLflow cannot be reached, registry endpoints say so (503) instead of inventing models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mlsec.services.training.app import create_app
from mlsec.services.training.settings import TrainingSettings
from tests.conftest import make_settings, started_client

pytestmark = pytest.mark.anyio


@pytest.fixture
async def offline(
    tmp_path: Path, training_settings: TrainingSettings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    settings = make_settings(tmp_path / "home", mlflow_tracking_uri="http://127.0.0.1:1")
    async for http in started_client(create_app(settings, training_settings)):
        yield http


@pytest.mark.parametrize("path", ["/models/models", "/models/model-registry", "/models/latest-models"])
async def test_registry_unavailable_is_503(offline: httpx.AsyncClient, path: str) -> None:
    response = await offline.get(path)
    assert response.status_code == 503
    assert response.json()["details"]["dependency"] == "mlflow"
