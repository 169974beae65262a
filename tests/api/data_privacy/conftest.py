"""The data-privacy service in process on a real database (SQLite, and PostgreSQL with Redis when available).

The stores it asks (training, model API, model cache) are not running here: their URLs point at a closed port,
so every answer that needs them says which store could not be reached. The flows through real stores are in
tests/e2e/test_up_privacy.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mlsec.core.settings import Settings
from mlsec.services.data_privacy.app import create_app
from mlsec.services.data_privacy.settings import DataPrivacySettings
from tests.conftest import make_settings, started_client

CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens, a connection is refused at once


def unreachable_stores(settings: Settings) -> Settings:
    values = settings.model_dump()
    values.update(training_url=CLOSED, model_api_url=CLOSED, model_cache_url=CLOSED, http_retries=0)
    return make_settings(settings.home, **{k: v for k, v in values.items() if k != "home"})


def privacy_settings(**overrides: Any) -> DataPrivacySettings:
    values: dict[str, Any] = {"audit_events": False}
    values.update(overrides)
    return DataPrivacySettings.model_validate(values)


@pytest.fixture
async def privacy(backend_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in started_client(create_app(unreachable_stores(backend_settings), privacy_settings())):
        yield client


async def subject(client: httpx.AsyncClient, subject_id: str, email: str = "ann@example.com") -> dict[str, Any]:
    response = await client.post(
        "/data-subjects",
        json={"subject_id": subject_id, "identifiers": [{"type": "EMAIL_ADDRESS", "value": email}]},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())
