"""`GET /training/jobs`: an offset past a SQL bigint is a 422, never a 500 (OverflowError in the driver)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from mlsec.core.limits import MAX_INT64
from mlsec.core.settings import Settings
from mlsec.services.training.app import create_app
from mlsec.services.training.settings import TrainingSettings
from tests.conftest import make_settings, started_client
from tests.servers import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture
async def training(db_settings: Settings, training_settings: TrainingSettings) -> AsyncIterator[httpx.AsyncClient]:
    values = db_settings.model_dump(include={"home", "postgres_url", "database_prefix"})
    settings = make_settings(mlflow_tracking_uri=f"http://127.0.0.1:{free_port()}", **values)  # no MLflow needed
    async for client in started_client(create_app(settings, training_settings)):
        yield client


async def test_an_offset_past_a_bigint_is_422(training: httpx.AsyncClient) -> None:
    refused = await training.get("/training/jobs", params={"offset": str(2**63)})
    assert refused.status_code == 422, refused.text
    assert ["query", "offset"] in [error["location"] for error in refused.json()["details"]["errors"]]
    last = await training.get("/training/jobs", params={"offset": str(MAX_INT64)})
    assert last.status_code == 200 and last.json()["jobs"] == []
    parameters = (await training.get("/openapi.json")).json()["paths"]["/training/jobs"]["get"]["parameters"]
    offset = next(p["schema"] for p in parameters if p["name"] == "offset")
    assert (offset["minimum"], offset["maximum"]) == (0, MAX_INT64)
