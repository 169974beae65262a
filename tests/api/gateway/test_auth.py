"""The gateway's authentication through HTTP: tokens, keys, users, rate limits, bootstrap, CORS."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pydantic import SecretStr, ValidationError
from sqlalchemy import update
from typer.testing import CliRunner

from mlsec.cli import app as cli
from mlsec.core.auth import Role, credentials_path, decode_token, parse_api_key
from mlsec.core.database import Database
from mlsec.core.migrations import upgrade_to_head
from mlsec.core.service_token import SERVICE_TOKEN_HEADER
from mlsec.core.settings import Settings
from mlsec.services.gateway.app import create_app
from mlsec.services.gateway.models import ApiKey, AppUser, Base
from mlsec.services.gateway.service.security.accounts import get_all_keys
from mlsec.services.gateway.settings import GatewaySettings
from tests.api.gateway.security_support import Gateway, gateway_settings, isolated, running_gateway
from tests.conftest import make_settings, started_client

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def gateway(backend_settings: Settings) -> Any:
    async with running_gateway(backend_settings) as running:
        yield running


def _envelope(body: dict[str, Any], status: int) -> None:
    assert body["error"] is True and body["status_code"] == status
    assert {"message", "path", "timestamp", "details"} <= body.keys()


async def test_a_key_and_a_user_get_tokens_that_open_the_api(gateway: Gateway) -> None:
    viewer = await gateway.new_key(Role.VIEWER)
    by_key = await gateway.http.post("/auth/token", json={"api_key": viewer})
    assert by_key.status_code == 200
    token = by_key.json()
    assert (token["token_type"], token["role"], token["expires_in"]) == ("bearer", "viewer", 3600)
    me = await gateway.http.get("/auth/me", headers=gateway.as_key(token["access_token"]))
    assert me.json() == {"subject": "test-viewer", "role": "viewer", "kind": "api_key", "key_id": viewer[6:18]}

    created = await gateway.http.post(
        "/auth/users",
        json={"username": "ada", "password": PASSWORD, "role": "operator"},
        headers=gateway.as_key(gateway.admin_key),
    )
    assert created.status_code == 201 and "password" not in created.text
    by_password = await gateway.http.post("/auth/token", json={"username": "ada", "password": PASSWORD})
    assert by_password.json()["role"] == "operator"
    me = await gateway.http.get("/auth/me", headers=gateway.as_key(by_password.json()["access_token"]))
    assert me.json() == {"subject": "ada", "role": "operator", "kind": "user", "key_id": None}
    # The X-API-Key header works as well as the bearer form.
    assert (await gateway.http.get("/auth/me", headers={"X-API-Key": viewer})).json()["role"] == "viewer"


async def test_wrong_credentials_get_one_answer_whatever_was_wrong(gateway: Gateway) -> None:
    await gateway.http.post(
        "/auth/users", json={"username": "ada", "password": PASSWORD}, headers=gateway.as_key(gateway.admin_key)
    )
    attempts = [
        {"username": "ada", "password": "wrong password"},
        {"username": "nobody", "password": PASSWORD},
        {"api_key": gateway.admin_key[:-4] + "AAAA"},
        {"api_key": "mlsec_000000000000_" + "A" * 43},
        {"api_key": "not-a-key"},
    ]
    for attempt in attempts:
        response = await gateway.http.post("/auth/token", json=attempt)
        assert response.status_code == 401, attempt
        _envelope(response.json(), 401)
        assert response.json()["message"] == "invalid credentials"
        assert response.headers["www-authenticate"] == "Bearer"
    both = await gateway.http.post("/auth/token", json={"username": "ada", "password": PASSWORD, "api_key": "x"})
    assert both.status_code == 422


async def test_a_key_lives_until_it_is_revoked(gateway: Gateway) -> None:
    admin = gateway.as_key(gateway.admin_key)
    operator = await gateway.new_key(Role.OPERATOR, name="ci runner")
    key_id = operator[6:18]
    token = (await gateway.http.post("/auth/token", json={"api_key": operator})).json()["access_token"]
    assert (await gateway.http.get("/events", headers=gateway.as_key(operator))).status_code == 200
    assert (await gateway.http.get("/events", headers=gateway.as_key(token))).status_code == 200

    listed = await gateway.http.get("/auth/keys", headers=admin)
    assert listed.status_code == 200
    assert operator not in listed.text and "$argon2" not in listed.text
    mine = next(key for key in listed.json()["keys"] if key["key_id"] == key_id)
    assert (mine["name"], mine["role"], mine["revoked_at"]) == ("ci runner", "operator", None)
    assert mine["last_used_at"] is not None and mine["created_by"].startswith("api_key:")

    revoked = await gateway.http.delete(f"/auth/keys/{key_id}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    for credential in (operator, token):
        refused = await gateway.http.get("/events", headers=gateway.as_key(credential))
        assert refused.status_code == 401
        _envelope(refused.json(), 401)
    assert (await gateway.http.post("/auth/token", json={"api_key": operator})).status_code == 401
    assert (await gateway.http.delete("/auth/keys/0123456789ab", headers=admin)).status_code == 404


async def test_roles_are_enforced_with_401_and_403(gateway: Gateway) -> None:
    viewer = await gateway.new_key(Role.VIEWER)
    anonymous = await gateway.http.get("/auth/keys")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    _envelope(anonymous.json(), 401)
    forbidden = await gateway.http.get("/auth/keys", headers=gateway.as_key(viewer))
    assert forbidden.status_code == 403
    _envelope(forbidden.json(), 403)
    assert forbidden.json()["details"] == {"role": "viewer", "required_role": "admin"}
    junk = await gateway.http.get("/events", headers={"Authorization": "Bearer not.a.token"})
    assert junk.status_code == 401


async def _token_of_new_admin(gateway: Gateway, username: str) -> dict[str, str]:
    body = {"username": username, "password": PASSWORD, "role": "admin"}
    assert (await gateway.http.post("/auth/users", json=body, headers=gateway.as_key(gateway.admin_key))).is_success
    token = (await gateway.http.post("/auth/token", json={"username": username, "password": PASSWORD})).json()
    assert token["role"] == "admin"
    return gateway.as_key(token["access_token"])


async def test_a_token_never_does_more_than_its_user_may_now(gateway: Gateway) -> None:
    """A user demoted (PATCH /auth/users/{name}) loses the rights of the tokens issued before, at their next use;
    disabled, the tokens are refused."""
    admin, grace = gateway.as_key(gateway.admin_key), await _token_of_new_admin(gateway, "grace")
    assert (await gateway.http.get("/auth/keys", headers=grace)).status_code == 200  # the role is now cached

    demoted = await gateway.http.patch("/auth/users/grace", json={"role": "viewer"}, headers=admin)
    assert demoted.status_code == 200 and demoted.json()["role"] == "viewer"
    forbidden = await gateway.http.get("/auth/keys", headers=grace)
    assert forbidden.status_code == 403
    assert forbidden.json()["details"] == {"role": "viewer", "required_role": "admin"}
    assert (await gateway.http.get("/auth/me", headers=grace)).json()["role"] == "viewer"
    assert (await gateway.http.get("/events", headers=grace)).status_code == 200  # what a viewer may

    promoted = await gateway.http.patch("/auth/users/grace", json={"role": "admin"}, headers=admin)
    assert promoted.json()["role"] == "admin"
    assert (await gateway.http.get("/auth/keys", headers=grace)).status_code == 200  # never above the token's own
    disabled = await gateway.http.patch("/auth/users/grace", json={"disabled": True}, headers=admin)
    assert disabled.json()["disabled"] is True
    assert (await gateway.http.get("/events", headers=grace)).status_code == 401
    assert (await gateway.http.post("/auth/token", json={"username": "grace", "password": PASSWORD})).status_code == 401

    assert (await gateway.http.patch("/auth/users/nobody", json={"role": "viewer"}, headers=admin)).status_code == 404
    assert (await gateway.http.patch("/auth/users/grace", json={}, headers=admin)).status_code == 422
    assert (await gateway.http.patch("/auth/users/grace", json={"role": "root"}, headers=admin)).status_code == 422


async def test_a_role_changed_in_the_database_reaches_the_tokens_issued_before(settings: Settings) -> None:
    """Changed behind the gateway's back (SQL, another replica): checked at every use with no cache; with the
    cache, within MLSEC_GATEWAY_AUTH_CACHE_SECONDS."""
    async with running_gateway(settings, gateway_settings(auth_cache_seconds=0)) as gateway:
        admin_key = await gateway.new_key(Role.ADMIN, name="deploy")
        by_key = (await gateway.http.post("/auth/token", json={"api_key": admin_key})).json()
        key_token = gateway.as_key(by_key["access_token"])
        ada = await _token_of_new_admin(gateway, "ada")
        for token in (key_token, ada):
            assert (await gateway.http.get("/auth/keys", headers=token)).status_code == 200

        async with gateway.app.state.ctx.db.session() as session:
            await session.execute(update(ApiKey).where(ApiKey.key_id == admin_key[6:18]).values(role="operator"))
            await session.execute(update(AppUser).where(AppUser.username == "ada").values(role="viewer"))
        for token, role in ((key_token, "operator"), (ada, "viewer")):
            assert (await gateway.http.get("/auth/keys", headers=token)).status_code == 403
            assert (await gateway.http.get("/auth/me", headers=token)).json()["role"] == role
        assert (await gateway.http.get("/auth/keys", headers=gateway.as_key(admin_key))).status_code == 403

        async with gateway.app.state.ctx.db.session() as session:
            await session.execute(update(AppUser).where(AppUser.username == "ada").values(role="nonsense"))
        assert (await gateway.http.get("/events", headers=ada)).status_code == 401  # an unknown stored role


async def test_users_are_unique_and_listed_without_hashes(gateway: Gateway) -> None:
    admin = gateway.as_key(gateway.admin_key)
    body = {"username": "grace", "password": PASSWORD, "role": "admin"}
    assert (await gateway.http.post("/auth/users", json=body, headers=admin)).status_code == 201
    assert (await gateway.http.post("/auth/users", json=body, headers=admin)).status_code == 409
    short = await gateway.http.post("/auth/users", json={**body, "username": "x", "password": "hunter2"}, headers=admin)
    assert short.status_code == 422 and "hunter2" not in short.text
    listed = await gateway.http.get("/auth/users", headers=admin)
    assert listed.json()["count"] == 1 and "$argon2" not in listed.text


async def test_a_tiny_rate_limit_answers_429_with_retry_after(backend_settings: Settings) -> None:
    async with running_gateway(backend_settings, gateway_settings(rate_limit_viewer="3/hour")) as gateway:
        viewer = gateway.as_key(await gateway.new_key(Role.VIEWER))
        statuses = [(await gateway.http.get("/auth/me", headers=viewer)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = await gateway.http.get("/auth/me", headers=viewer)
        assert 0 < int(limited.headers["retry-after"]) <= 3600
        _envelope(limited.json(), 429)
        assert limited.json()["details"]["retry_after_seconds"] == int(limited.headers["retry-after"])
        # Another principal has its own window.
        assert (await gateway.http.get("/auth/me", headers=gateway.as_key(gateway.admin_key))).status_code == 200


async def test_sign_in_attempts_are_limited_per_address(settings: Settings) -> None:
    async with running_gateway(settings, gateway_settings(rate_limit_login="3/hour")) as gateway:
        wrong = {"username": "ada", "password": "guess"}
        statuses = [(await gateway.http.post("/auth/token", json=wrong)).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]


async def test_the_service_token_is_an_operator_for_events(settings: Settings) -> None:
    token = "s" * 40
    async with running_gateway(settings.model_copy(update={"service_token": SecretStr(token)})) as gateway:
        event = {"topic": "drift", "type": "alert", "source": "analytics"}
        posted = await gateway.http.post("/events", json=event, headers={SERVICE_TOKEN_HEADER: token})
        assert posted.status_code == 202
        assert (await gateway.http.get("/auth/keys", headers={SERVICE_TOKEN_HEADER: token})).status_code == 403
        wrong = await gateway.http.post("/events", json=event, headers={SERVICE_TOKEN_HEADER: "t" * 40})
        assert wrong.status_code == 401


async def test_bootstrap_writes_the_credentials_once_and_tokens_survive_a_restart(settings: Settings) -> None:
    path = credentials_path(settings)
    async with running_gateway(settings) as first:
        assert path.stat().st_mode & 0o777 == 0o600
        content = path.read_text()
        assert first.admin_key in content
        token = (await first.http.post("/auth/token", json={"api_key": first.admin_key})).json()["access_token"]
    async with running_gateway(settings) as second:
        assert path.read_text() == content  # no second key, no rewrite
        keys = (await second.http.get("/auth/keys", headers=second.as_key(second.admin_key))).json()
        assert keys["count"] == 1 and keys["keys"][0]["role"] == "admin"
        assert (await second.http.get("/auth/me", headers=second.as_key(token))).status_code == 200


async def test_a_configured_jwt_secret_signs_the_tokens(settings: Settings) -> None:
    secret = "j" * 48
    async with running_gateway(settings, gateway_settings(jwt_secret=secret, jwt_ttl_seconds=120)) as gateway:
        answer = (await gateway.http.post("/auth/token", json={"api_key": gateway.admin_key})).json()
        claims = decode_token(answer["access_token"], secret)
        assert (claims.role, claims.kind, answer["expires_in"]) == (Role.ADMIN, "api_key", 120)
        assert claims.expires_at - claims.issued_at == 120


async def test_with_auth_disabled_everything_is_allowed(settings: Settings) -> None:
    async with running_gateway(settings, gateway_settings(auth_enabled=False)) as gateway:
        me = await gateway.http.get("/auth/me")
        assert me.json()["role"] == "admin"
        assert (await gateway.http.get("/auth/keys")).status_code == 200


async def test_cors_answers_only_the_configured_origins(settings: Settings) -> None:
    own = gateway_settings(cors_origins=["https://ops.example"])
    async with running_gateway(settings, own) as gateway:
        preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
        allowed = await gateway.http.options("/events", headers={"Origin": "https://ops.example", **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://ops.example"
        other = await gateway.http.options("/events", headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in other.headers
    async with running_gateway(make_settings(Path(settings.home) / "other")) as default:
        plain = await default.http.get("/health/live", headers={"Origin": "https://ops.example"})
        assert "access-control-allow-origin" not in plain.headers


async def test_one_key_presented_at_once_many_times_is_verified_once(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    viewer = await gateway.new_key(Role.VIEWER)
    authenticator = gateway.app.state.security.authenticator
    calls = 0
    original = authenticator._verify_key

    async def counting(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        return await original(*args)

    monkeypatch.setattr(authenticator, "_verify_key", counting)
    answers = await asyncio.gather(*(gateway.http.get("/auth/me", headers=gateway.as_key(viewer)) for _ in range(20)))
    assert {answer.status_code for answer in answers} == {200}
    assert calls == 1


async def test_the_auth_tables_equal_their_migration(settings: Settings) -> None:
    db = Database(settings.database_url_for("gateway"))
    try:
        await upgrade_to_head(db, "gateway", Base.metadata)

        def diff(connection: Any) -> list[Any]:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

        async with db.engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await db.dispose()


def test_mlsec_auth_create_key_prints_a_key_the_gateway_accepts(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLSEC_HOME", str(settings.home))
    result = CliRunner().invoke(cli, ["auth", "create-key", "--role", "operator", "--name", "deploy bot"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert parse_api_key(key) is not None and "created operator key" in result.output
    refused = CliRunner().invoke(cli, ["auth", "create-key", "--role", "root"])
    assert refused.exit_code == 2

    async def use() -> dict[str, Any]:
        async with running_gateway(settings) as gateway:
            return dict((await gateway.http.get("/auth/me", headers=gateway.as_key(key))).json())

    assert asyncio.run(use()) == {"subject": "deploy bot", "role": "operator", "kind": "api_key", "key_id": key[6:18]}


async def test_a_gateway_that_cannot_write_the_credentials_starts_without_a_bootstrap_key(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    credentials_path(settings).mkdir(parents=True)  # a directory where the file would go: writing fails
    app = create_app(isolated(settings), gateway_settings())
    async for http in started_client(app):
        assert (await http.get("/health/live")).status_code == 200
        async with app.state.ctx.db.session() as session:
            assert await get_all_keys(session) == []  # rolled back: no key that nobody knows
    assert "auth.bootstrap.skipped" in [record.message for record in caplog.records]


def test_the_seed_variables_configure_the_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", '["https://ops.example", "http://localhost:3000/"]')
    monkeypatch.setenv("JWT_SECRET", "k" * 40)
    monkeypatch.setenv("MLSEC_GATEWAY_RATE_LIMIT_VIEWER", "5 per second")
    own = GatewaySettings(_env_file=None)
    assert own.cors_origins == ["https://ops.example", "http://localhost:3000"]
    assert own.jwt_secret is not None and own.jwt_secret.get_secret_value() == "k" * 40
    assert own.rate_limit_viewer == "5 per second"
    for name, value in [
        ("CORS_ORIGINS", '["ops.example"]'),
        ("JWT_SECRET", "short"),
        ("MLSEC_GATEWAY_RATE_LIMIT_ADMIN", "plenty"),
    ]:
        with monkeypatch.context() as bad:
            bad.setenv(name, value)
            with pytest.raises(ValidationError):
                GatewaySettings(_env_file=None)
    defaults = GatewaySettings(_env_file=None, jwt_secret=None, cors_origins=[])
    assert (defaults.auth_enabled, defaults.auth_cache_seconds, defaults.jwt_ttl_seconds) == (True, 60, 3600)
    assert (defaults.argon2_time_cost, defaults.argon2_memory_kib, defaults.argon2_parallelism) == (3, 65536, 4)
