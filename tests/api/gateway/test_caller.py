"""The gateway tells a service who called (for audit fields), and nobody else can through it.

A real analytics service (threaded uvicorn) behind the real gateway: an alert acknowledged through the
gateway with an API key records that key's identity, whatever `X-Mlsec-Caller` the client itself sends.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from mlsec.core.auth import Role
from mlsec.core.database import Database
from mlsec.core.settings import Settings
from mlsec.services.analytics.app import create_app as create_analytics
from mlsec.services.analytics.models import DriftAlert
from tests.api.analytics.conftest import analytics_settings
from tests.api.gateway.security_support import running_gateway
from tests.servers import ThreadedServer

pytestmark = pytest.mark.anyio


async def _open_alert(settings: Settings) -> int:
    db = Database(settings.database_url_for("analytics"))
    try:
        async with db.session() as session:
            alert = DriftAlert(
                created_at=datetime.now(UTC),
                model_name="guard",
                kind="data_drift",
                severity="high",
                message="drift",
                features=[],
                status="open",
                notifications={},
            )
            session.add(alert)
            await session.flush()
            return int(alert.id)
    finally:
        await db.dispose()


async def test_an_acknowledgement_through_the_gateway_names_the_key(settings: Settings) -> None:
    with ThreadedServer(create_analytics(settings, analytics_settings())) as analytics:
        alert_id = await _open_alert(settings)
        async with running_gateway(settings, analytics_url=analytics.url) as gateway:
            created = await gateway.http.post(
                "/auth/keys",
                json={"name": "on-call", "role": str(Role.OPERATOR)},
                headers=gateway.as_key(gateway.admin_key),
            )
            assert created.status_code == 201, created.text
            key, key_id = created.json()["api_key"], created.json()["key_id"]
            answer = await gateway.http.post(
                f"/api/analytics/drift/alerts/{alert_id}/acknowledge",
                json={"note": "looking"},
                headers={**gateway.as_key(key), "X-Mlsec-Caller": "user:somebody-else"},
            )
    assert answer.status_code == 200, answer.text
    assert answer.json()["acknowledged_by"] == f"api_key:{key_id}"


async def test_without_the_gateway_the_caller_is_the_api(settings: Settings) -> None:
    """Called directly (a script on the service's own machine), the service records "api", and a malformed
    caller is not stored."""
    with ThreadedServer(create_analytics(settings, analytics_settings())) as analytics:
        first, second = await _open_alert(settings), await _open_alert(settings)
        async with httpx.AsyncClient(base_url=analytics.url) as client:
            plain = await client.post(f"/drift/alerts/{first}/acknowledge", json={})
            odd = await client.post(
                f"/drift/alerts/{second}/acknowledge", json={}, headers={"X-Mlsec-Caller": "user:<script>"}
            )
    assert plain.json()["acknowledged_by"] == "api"
    assert odd.json()["acknowledged_by"] == "api"
