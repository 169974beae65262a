"""`GET /predictions/log` of both serving services: an `after_id` or a time that does not fit is a 422, never a
500, and times are UTC (a naive one is read as UTC). No model is needed: MLflow is not even reachable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert

from mlsec.core.limits import MAX_INT64
from mlsec.core.settings import Settings
from tests.conftest import make_settings, started_client
from tests.servers import free_port

pytestmark = pytest.mark.anyio
LOG = "/predictions/log"


def _model_api(settings: Settings) -> FastAPI:
    from mlsec.services.model_api.app import create_app
    from mlsec.services.model_api.settings import ModelApiSettings

    return create_app(settings, ModelApiSettings(_env_file=None))


def _model_cache(settings: Settings) -> FastAPI:
    from mlsec.services.model_cache.app import create_app
    from mlsec.services.model_cache.settings import ModelCacheSettings

    return create_app(settings, ModelCacheSettings(_env_file=None, preload_champions=False))


@pytest.fixture(params=[_model_api, _model_cache], ids=["model-api", "model-cache"])
async def serving(request: pytest.FixtureRequest, db_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    values = db_settings.model_dump(include={"home", "postgres_url", "database_prefix"})
    settings = make_settings(mlflow_tracking_uri=f"http://127.0.0.1:{free_port()}", **values)
    async for client in started_client(request.param(settings)):
        yield client


def _assert_refused(response: httpx.Response, name: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["error"] is True
    assert ["query", name] in [error["location"] for error in response.json()["details"]["errors"]]


@pytest.mark.parametrize(
    ("params", "refused"),
    [
        ({"after_id": str(2**63)}, "after_id"),
        ({"after_id": "-1"}, "after_id"),
        ({"since": "9999-12-31T23:59:59-23:59"}, "since"),
        ({"until": "9999-12-31T23:59:59-23:59"}, "until"),
        ({"since": "0001-01-01T00:00:00+23:59"}, "since"),
    ],
)
async def test_values_that_do_not_fit_are_422(serving: httpx.AsyncClient, params: dict[str, str], refused: str) -> None:
    _assert_refused(await serving.get(LOG, params={"model_name": "guard", **params}), refused)


async def test_the_largest_values_that_fit_are_answered(serving: httpx.AsyncClient) -> None:
    params = {"model_name": "guard", "after_id": str(MAX_INT64), "until": "9999-12-31T23:59:59+00:00"}
    answer = await serving.get(LOG, params={**params, "since": "0001-01-01T00:00:00Z"})
    assert answer.status_code == 200 and answer.json()["records"] == []


async def test_times_are_utc_and_naive_ones_are_read_as_utc(serving: httpx.AsyncClient) -> None:
    state = serving._transport.app.state.serving  # type: ignore[attr-defined]
    row: dict[str, Any] = {
        "created_at": datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        "model_name": "guard",
        "model_version": "1",
        "latency_ms": 1.0,
        "input_sha256": "0" * 64,
        "features": {},
        "source": "test",
    }
    async with state.log.db.engine.begin() as conn:
        await conn.execute(insert(state.log.table), [row])

    async def ids(**params: str) -> list[int]:
        page = await serving.get(LOG, params={"model_name": "guard", **params})
        assert page.status_code == 200, page.text
        return [record["id"] for record in page.json()["records"]]

    assert len(await ids(since="2026-03-01T12:00:00")) == 1  # naive: UTC
    assert await ids(since="2026-03-01T12:00:01") == []
    assert len(await ids(since="2026-03-01T13:00:00+01:00")) == 1  # 12:00 UTC
    assert await ids(since="2026-03-01T13:00:01+01:00") == []
    assert len(await ids(until="2026-03-01T07:00:01-05:00")) == 1  # 12:00:01 UTC
    assert await ids(until="2026-03-01T07:00:00-05:00") == []
