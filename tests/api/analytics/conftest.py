"""The analytics service in process, on its own SQLite database, with the live monitor off."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from mlsec.core.settings import Settings
from mlsec.services.analytics.app import create_app
from mlsec.services.analytics.settings import AnalyticsSettings
from tests.conftest import started_client


def analytics_settings(**overrides: object) -> AnalyticsSettings:
    """Settings for a test: no schedule (tests ask for checks themselves), no e-mail unless given."""
    values: dict[str, object] = {"monitor_interval_seconds": 0, "smtp_host": None, "alert_email_to": []}
    values.update(overrides)
    return AnalyticsSettings.model_validate(values)


@pytest.fixture
async def analytics(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client to a started analytics app (lifespan run, migrations applied)."""
    async for client in started_client(create_app(settings, analytics_settings())):
        yield client
