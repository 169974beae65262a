"""Admin actions become `admin` events on the platform's stream (the data-privacy service audits them): the key and
user routes with their details, every other admin write once it succeeded; never a secret in the payload."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mlsec.core.auth import Role
from mlsec.core.settings import Settings
from tests.api.gateway.security_support import Gateway, running_gateway

pytestmark = pytest.mark.anyio


@pytest.fixture
async def gateway(settings: Settings) -> Any:
    async with running_gateway(settings) as running:
        yield running


async def _admin_events(gateway: Gateway, expected: int) -> list[tuple[str, dict[str, Any]]]:
    """The admin events the gateway's hub holds, once `expected` arrived (publishing is asynchronous) or 2 s."""
    for _ in range(40):
        events = [(e.type, e.payload) for e in gateway.app.state.ctx.hub.recent(topic="admin")]
        if len(events) >= expected:
            break
        await asyncio.sleep(0.05)
    return events


async def test_key_and_user_actions_are_announced_without_secrets(gateway: Gateway) -> None:
    key = await gateway.new_key(Role.OPERATOR, name="ci runner")
    admin = gateway.as_key(gateway.admin_key)
    await gateway.http.delete(f"/auth/keys/{key[6:18]}", headers=admin)
    user = {"username": "ada", "password": "correct horse battery staple", "role": "viewer"}
    await gateway.http.post("/auth/users", json=user, headers=admin)
    await gateway.http.patch("/auth/users/ada", json={"role": "operator"}, headers=admin)
    events = await _admin_events(gateway, 4)
    assert [kind for kind, _ in events] == ["key.created", "key.revoked", "user.created", "user.updated"]
    created = events[0][1]
    assert created["key_id"] == key[6:18] and created["role"] == "operator" and created["actor"].startswith("api_key:")
    assert key not in str(events) and "correct horse" not in str(events)
    assert events[3][1]["role"] == "operator" and events[3][1]["username"] == "ada"


async def test_a_failed_admin_write_is_not_announced(gateway: Gateway) -> None:
    admin = gateway.as_key(gateway.admin_key)
    # Every service is unreachable here: the erasure is answered 503 and did not happen.
    answer = await gateway.http.delete("/api/data-privacy/data-subjects/someone", headers=admin)
    assert answer.status_code == 503
    refused = await gateway.http.delete("/api/data-privacy/data-subjects/someone")
    assert refused.status_code == 401
    await asyncio.sleep(0.3)
    assert await _admin_events(gateway, 0) == []
