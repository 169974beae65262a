"""The access page through HTTP: admins only (others get the 403 page and no `access` link), the keys and users
read from the gateway's database with their controls, and never a key or a hash in the HTML."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from mlsec.core.auth import Role
from mlsec.core.settings import Settings
from mlsec.services.gateway.models import ApiKey, AppUser
from tests.api.gateway.security_support import Gateway, running_gateway

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def gateway(settings: Settings) -> Any:
    async with running_gateway(settings) as running:
        yield running


async def _sign_in(gateway: Gateway, key: str) -> None:
    response = await gateway.http.post("/auth/session", json={"api_key": key})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
async def test_only_an_admin_sees_the_page_or_its_link(gateway: Gateway, role: Role) -> None:
    await _sign_in(gateway, await gateway.new_key(role))
    page = await gateway.http.get("/ui/access")
    assert page.status_code == 403 and "needs the admin role" in page.text
    assert 'id="keys"' not in page.text
    for part in ("keys", "users"):
        assert (await gateway.http.get(f"/ui/access/partials/{part}")).status_code == 403
    overview = await gateway.http.get("/ui/overview")
    assert overview.status_code == 200 and 'data-page="models"' in overview.text
    assert 'data-page="access"' not in overview.text


async def test_the_admin_sees_keys_and_users_and_never_a_secret(gateway: Gateway) -> None:
    admin = gateway.as_key(gateway.admin_key)
    created = await gateway.http.post("/auth/keys", json={"name": "ci-pipeline", "role": "operator"}, headers=admin)
    assert created.status_code == 201
    new_key, key_id = created.json()["api_key"], created.json()["key_id"]
    user = await gateway.http.post(
        "/auth/users", json={"username": "ada", "password": PASSWORD, "role": "viewer"}, headers=admin
    )
    assert user.status_code == 201
    await _sign_in(gateway, gateway.admin_key)

    page = await gateway.http.get("/ui/access")
    assert page.status_code == 200 and "<title>Access" in page.text and 'data-page="access"' in page.text
    text = page.text
    assert 'id="keys"' in text and 'id="users"' in text
    assert f'data-key-id="{key_id}" data-state="active"' in text and "ci-pipeline" in text
    assert 'data-username="ada" data-state="active"' in text
    assert f'class="revoke-key admin-control write-control secondary" type="button" data-key-id="{key_id}"' in text
    assert '<form id="create-key-form" class="admin-control">' in text
    assert '<form id="create-user-form" class="admin-control">' in text
    assert 'autocomplete="new-password"' in text and 'class="set-role admin-control write-control' in text
    assert 'class="toggle-user admin-control write-control' in text
    assert "(you)" in text  # the admin's own key is marked

    secrets = [new_key, gateway.admin_key, PASSWORD]
    async with gateway.app.state.ctx.db.session() as session:
        secrets += list(await session.scalars(select(ApiKey.secret_hash)))
        secrets += list(await session.scalars(select(AppUser.password_hash)))
    for part in ("/ui/access", "/ui/access/partials/keys", "/ui/access/partials/users"):
        html = (await gateway.http.get(part)).text
        for secret in secrets:
            assert secret not in html, part
        assert "argon2" not in html, part


async def test_partials_follow_the_writes(gateway: Gateway) -> None:
    csrf = (await gateway.http.post("/auth/session", json={"api_key": gateway.admin_key})).json()["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    created = await gateway.http.post("/auth/keys", json={"name": "short-lived", "role": "viewer"}, headers=headers)
    key_id = created.json()["key_id"]
    assert (await gateway.http.delete(f"/auth/keys/{key_id}", headers=headers)).status_code == 200
    keys = await gateway.http.get("/ui/access/partials/keys")
    assert keys.status_code == 200 and "<html" not in keys.text
    assert f'data-key-id="{key_id}" data-state="revoked"' in keys.text
    assert f'data-key-id="{key_id}" data-name' not in keys.text  # no revoke button on a revoked key

    body = {"username": "grace", "password": PASSWORD, "role": "viewer"}
    assert (await gateway.http.post("/auth/users", json=body, headers=headers)).status_code == 201
    patched = await gateway.http.patch(
        "/auth/users/grace", json={"role": "operator", "disabled": True}, headers=headers
    )
    assert patched.status_code == 200
    users = await gateway.http.get("/ui/access/partials/users")
    assert 'data-username="grace" data-state="disabled"' in users.text
    assert '<option value="operator" selected>' in users.text and 'data-disabled="true">Enable' in users.text


async def test_the_admin_nav_has_the_access_link(gateway: Gateway) -> None:
    await _sign_in(gateway, gateway.admin_key)
    overview = await gateway.http.get("/ui/overview")
    assert 'data-page="access" href="/ui/access"' in overview.text
