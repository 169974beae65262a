"""The authentication building blocks: roles, argon2 hashes, API keys, JWTs, the credentials file."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import jwt
import pytest
from pydantic import SecretStr, ValidationError

from mlsec.core.auth import (
    Principal,
    Role,
    TokenError,
    credentials_path,
    decode_token,
    hash_secret,
    issue_token,
    load_api_key,
    make_hasher,
    new_api_key,
    parse_api_key,
    platform_auth,
    read_credentials,
    role_allows,
    verify_secret,
    write_credentials,
)
from mlsec.core.service_token import (
    CALLER_HEADER,
    SERVICE_TOKEN_HEADER,
    check_service_token,
    is_loopback,
    load_service_token,
    service_token_path,
    service_token_required,
    trusted_caller,
    write_service_token,
)
from mlsec.core.settings import ConfigurationError, Settings
from tests.conftest import make_settings

SECRET = "s" * 32
CHEAP = make_hasher(time_cost=1, memory_kib=8, parallelism=1)


def test_roles_are_ordered() -> None:
    assert role_allows(Role.ADMIN, Role.VIEWER) and role_allows(Role.OPERATOR, Role.OPERATOR)
    assert not role_allows(Role.VIEWER, Role.OPERATOR) and not role_allows(Role.OPERATOR, Role.ADMIN)
    assert [str(role) for role in Role] == ["viewer", "operator", "admin"]


def test_a_hash_verifies_its_secret_only() -> None:
    stored = hash_secret("open sesame", CHEAP)
    assert stored.startswith("$argon2id$") and "open sesame" not in stored
    assert verify_secret(stored, "open sesame")
    assert not verify_secret(stored, "open sesame!")
    assert not verify_secret("not a hash", "open sesame")
    assert hash_secret("open sesame", CHEAP) != stored  # salted
    with pytest.raises(ValueError, match="empty"):
        hash_secret("")


def test_the_default_hash_cost_is_not_weakened() -> None:
    stored = hash_secret("x")
    assert "$m=65536,t=3,p=4$" in stored


def test_keys_have_the_documented_shape_and_parse_back() -> None:
    key_id, key = new_api_key()
    assert len(key_id) == 12 and all(c in "0123456789abcdef" for c in key_id)
    assert key.startswith(f"mlsec_{key_id}_") and len(key.split("_", 2)[2]) >= 32
    assert parse_api_key(key) == (key_id, key.split("_", 2)[2])
    assert new_api_key()[1] != key
    for bad in (
        "",
        "mlsec_",
        f"mlsec_{key_id}_short",
        f"other_{key_id}_{'a' * 40}",
        "mlsec_XYZ_" + "a" * 40,
        "a" * 500,
    ):
        assert parse_api_key(bad) is None


def test_a_token_carries_its_claims_until_it_expires() -> None:
    token = issue_token("ada", Role.OPERATOR, SECRET, 60, kind="api_key", key_id="0123456789ab")
    claims = decode_token(token, SECRET)
    assert (claims.subject, claims.role, claims.kind, claims.key_id) == (
        "ada",
        Role.OPERATOR,
        "api_key",
        "0123456789ab",
    )
    assert claims.expires_at - claims.issued_at == 60
    expired = jwt.encode(
        {"sub": "ada", "role": "admin", "iss": "mlsec", "iat": int(time.time()) - 120, "exp": int(time.time()) - 60},
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(TokenError, match="token expired"):
        decode_token(expired, SECRET)


def test_a_tampered_or_foreign_token_is_refused() -> None:
    token = issue_token("ada", Role.VIEWER, SECRET, 60)
    header, _, signature = token.split(".")
    promoted = jwt.encode({"sub": "ada", "role": "admin", "iss": "mlsec", "iat": 1, "exp": 2**40}, "x" * 32)
    forged = f"{header}.{promoted.split('.')[1]}.{signature}"
    with pytest.raises(TokenError, match="signature"):
        decode_token(forged, SECRET)
    with pytest.raises(TokenError, match="signature"):
        decode_token(token, "t" * 32)
    unsigned = jwt.encode({"sub": "ada", "role": "admin", "iss": "mlsec", "iat": 1, "exp": 2**40}, "", "none")
    with pytest.raises(TokenError):
        decode_token(unsigned, SECRET)
    with pytest.raises(TokenError):
        decode_token("not.a.token", SECRET)
    odd_role = jwt.encode({"sub": "a", "role": "root", "iss": "mlsec", "iat": 1, "exp": 2**40}, SECRET, "HS256")
    with pytest.raises(TokenError, match="role"):
        decode_token(odd_role, SECRET)
    with pytest.raises(ValueError, match="32 bytes"):
        issue_token("ada", Role.VIEWER, "short", 60)


def test_a_principal_has_one_identity_for_limits() -> None:
    assert Principal("ci", Role.VIEWER, "api_key", "0123456789ab").identity == "api_key:0123456789ab"
    assert Principal("ada", Role.ADMIN, "user").identity == "user:ada"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.10.0.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("gateway.internal", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_service_off_loopback_needs_a_token(tmp_path: Path) -> None:
    exposed = make_settings(tmp_path, host="0.0.0.0")
    with pytest.raises(ConfigurationError, match="MLSEC_SERVICE_TOKEN"):
        check_service_token("model-api", exposed)
    check_service_token("gateway", exposed)  # user auth instead
    check_service_token("model-api", make_settings(tmp_path))
    check_service_token("model-api", make_settings(tmp_path, host="0.0.0.0", service_token="x" * 32))


def test_a_set_token_is_required_by_every_service_but_the_gateway(tmp_path: Path) -> None:
    for host in ("127.0.0.1", "0.0.0.0"):
        with_token = make_settings(tmp_path, host=host, service_token="x" * 32)
        assert service_token_required("model-api", with_token)
        assert not service_token_required("gateway", with_token)  # user auth instead
    assert not service_token_required("model-api", make_settings(tmp_path))  # `mlsec serve` alone on loopback


def test_a_caller_is_named_only_with_the_service_token() -> None:
    token = "t" * 32
    assert trusted_caller({CALLER_HEADER: "user:ada", SERVICE_TOKEN_HEADER: token}, token) == "user:ada"
    assert trusted_caller({SERVICE_TOKEN_HEADER: token}, token) == "api"
    assert trusted_caller({CALLER_HEADER: "user:ada"}, token) == "api"
    assert trusted_caller({CALLER_HEADER: "user:ada", SERVICE_TOKEN_HEADER: token[:-1] + "x"}, token) == "api"
    assert trusted_caller({CALLER_HEADER: "user:<script>", SERVICE_TOKEN_HEADER: token}, token) == "api"
    assert trusted_caller({CALLER_HEADER: "user:ada", SERVICE_TOKEN_HEADER: ""}, None) == "api"  # nothing to prove


def test_the_token_mlsec_up_left_is_found_unless_one_is_set(settings: Settings) -> None:
    assert load_service_token(settings) is None
    path = write_service_token(settings, "f" * 43)
    assert path == service_token_path(settings) == settings.home / "run" / "service-token"
    assert (path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    assert load_service_token(settings) == "f" * 43
    assert load_service_token(settings.model_copy(update={"service_token": SecretStr("e" * 32)})) == "e" * 32
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigurationError, match="service token file"):
        load_service_token(settings)


def test_a_short_service_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        make_settings(tmp_path, service_token="too-short")
    assert make_settings(tmp_path, service_token="  ").service_token is None


def test_the_credentials_file_is_private_and_read_back(settings: Settings) -> None:
    _, key = new_api_key()
    path = credentials_path(settings)
    assert read_credentials(path) is None
    write_credentials(path, key, key_id=key[6:18], role=Role.ADMIN)
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_credentials(path) == key == load_api_key(settings)
    assert [p.name for p in path.parent.iterdir()] == ["credentials"]  # no temporary file left behind
    path.write_text('api_key = "nonsense"\n')
    with pytest.raises(ConfigurationError, match="no valid api_key"):
        load_api_key(settings)
    path.write_text("api_key = [unclosed\n")
    with pytest.raises(ConfigurationError, match="cannot read the credentials file"):
        load_api_key(settings)


def test_the_environment_key_wins_over_the_file(settings: Settings) -> None:
    _, key = new_api_key()
    write_credentials(credentials_path(settings), new_api_key()[1], key_id="0" * 12, role=Role.ADMIN)
    chosen = settings.model_copy(update={"api_key": SecretStr(key)})
    assert load_api_key(chosen) == key


@pytest.mark.anyio
async def test_platform_credentials_go_to_platform_origins_only(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, service_token="t" * 32, analytics_url="http://analytics.internal:9000")
    seen: dict[str, dict[str, str | None]] = {}

    def record(request: httpx.Request) -> httpx.Response:
        seen[f"{request.url.host}:{request.url.port}"] = {
            "token": request.headers.get(SERVICE_TOKEN_HEADER),
            "key": request.headers.get("authorization"),
        }
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(record), auth=platform_auth(settings, api_key="k")) as c:
        for url in ("http://127.0.0.1:8007/x", "http://analytics.internal:9000/x", "http://127.0.0.1:5000/x"):
            await c.get(url)
        await c.get("http://127.0.0.1:8000/x", headers={SERVICE_TOKEN_HEADER: "explicit"})
    assert seen == {
        "127.0.0.1:8007": {"token": "t" * 32, "key": "Bearer k"},
        "analytics.internal:9000": {"token": "t" * 32, "key": None},
        "127.0.0.1:5000": {"token": None, "key": None},  # MLflow is not ours: no secret goes there
        "127.0.0.1:8000": {"token": "explicit", "key": None},
    }
    assert platform_auth(make_settings(tmp_path)) is None
