"""The gateway tells a service who called (for audit fields), and nobody else can, through it or around it.

A real analytics service (threaded uvicorn) behind the real gateway, both with the internal service token as
under `mlsec up`: an alert acknowledged through the gateway with an API key records that key's identity,
whatever `X-Mlsec-Caller` the client itself sends. Called directly, a service takes the caller's name only
with the service token: without one configured, every caller is `api`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from mlsec.core.auth import Role
from mlsec.core.database import Database
from mlsec.core.service_token import CALLER_HEADER, SERVICE_TOKEN_HEADER
from mlsec.core.settings import Settings
from mlsec.services.analytics.app import create_app as create_analytics
from mlsec.services.analytics.models import DriftAlert
from tests.api.analytics.conftest import analytics_settings
from tests.api.gateway.security_support import running_gateway
from tests.servers import ThreadedServer

pytestmark = pytest.mark.anyio
TOKEN = "a-service-token-of-forty-characters-----"


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
    settings = settings.model_copy(update={"service_token": SecretStr(TOKEN)})
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
    """Called directly (a script on the service's own machine, `mlsec serve` alone, no token configured), the
    service records "api", whatever the script claims to be, and a malformed caller is not stored."""
    with ThreadedServer(create_analytics(settings, analytics_settings())) as analytics:
        first, second, third = [await _open_alert(settings) for _ in range(3)]
        async with httpx.AsyncClient(base_url=analytics.url) as client:
            plain = await client.post(f"/drift/alerts/{first}/acknowledge", json={})
            odd = await client.post(
                f"/drift/alerts/{second}/acknowledge", json={}, headers={CALLER_HEADER: "user:<script>"}
            )
            claimed = await client.post(
                f"/drift/alerts/{third}/acknowledge",
                json={},
                headers={CALLER_HEADER: "user:admin", SERVICE_TOKEN_HEADER: "made-up-token-of-forty-characters-----"},
            )
    assert plain.json()["acknowledged_by"] == "api"
    assert odd.json()["acknowledged_by"] == "api"
    assert claimed.json()["acknowledged_by"] == "api"


async def test_a_caller_is_named_only_with_the_service_token(settings: Settings) -> None:
    """With a token configured the service wants it on every call; the name a call carries with it is kept."""
    settings = settings.model_copy(update={"service_token": SecretStr(TOKEN)})
    with ThreadedServer(create_analytics(settings, analytics_settings())) as analytics:
        first, second = await _open_alert(settings), await _open_alert(settings)
        async with httpx.AsyncClient(base_url=analytics.url) as client:
            wrong = {CALLER_HEADER: "user:admin", SERVICE_TOKEN_HEADER: TOKEN[:-1] + "x"}
            refused = await client.post(f"/drift/alerts/{first}/acknowledge", json={}, headers=wrong)
            peer = await client.post(
                f"/drift/alerts/{first}/acknowledge",
                json={},
                headers={CALLER_HEADER: "user:ada", SERVICE_TOKEN_HEADER: TOKEN},
            )
            unnamed = await client.post(
                f"/drift/alerts/{second}/acknowledge", json={}, headers={SERVICE_TOKEN_HEADER: TOKEN}
            )
    assert refused.status_code == 401
    assert peer.json()["acknowledged_by"] == "user:ada"
    assert unnamed.json()["acknowledged_by"] == "api"
