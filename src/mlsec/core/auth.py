"""Authentication building blocks shared by the gateway, the services, the CLI and the SDK.

- Roles (`viewer` < `operator` < `admin`) and the one comparison everybody uses.
- Secrets (API keys, passwords) are stored only as argon2id hashes (argon2-cffi): a stolen
  database does not give working credentials.
- API keys look like `mlsec_<key_id>_<secret>`: the key id is public (it names the key in
  listings and logs), the secret never leaves the client after it was shown once.
- Short-lived JWTs (PyJWT, HS256) let a browser or a script trade a key or a password for a
  token that is checked by its signature alone, cheaply, on every request.
- What a caller sends to the platform (`platform_auth`): the internal service token
  (mlsec.core.service_token) to every service, an API key to the gateway.
- The credentials file (`MLSEC_HOME/credentials`, TOML, mode 0600) holds the key the CLI and SDK
  send when `MLSEC_API_KEY` is not set.
"""

from __future__ import annotations

import re
import secrets
import time
import tomllib
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import httpx
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mlsec.core.files import write_private
from mlsec.core.service_token import SERVICE_TOKEN_HEADER, load_service_token
from mlsec.core.services import SERVICES
from mlsec.core.settings import ConfigurationError, Settings


class Role(StrEnum):
    """What a principal may do; each role includes the ones below it."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]


_ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


def role_allows(have: Role, need: Role) -> bool:
    """Whether a principal holding `have` may do what needs `need`."""
    return have.rank >= need.rank


# ----- secrets ---------------------------------------------------------------------------------

DEFAULT_HASHER = PasswordHasher()  # argon2id, RFC 9106 "low memory" profile: t=3, m=64 MiB, p=4


def make_hasher(*, time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    """An argon2id hasher with explicit cost parameters (the defaults are the library's)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hash_secret(secret: str, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    """The argon2id hash of a secret (salted; slow on purpose: run it in a thread)."""
    if not secret:
        raise ValueError("refusing to hash an empty secret")
    return hasher.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    """Whether `secret` matches `stored_hash` (the hash carries its own cost parameters)."""
    try:
        return DEFAULT_HASHER.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


# ----- API keys --------------------------------------------------------------------------------

API_KEY_PREFIX = "mlsec"
API_KEY_MAX_CHARS = 200
_API_KEY = re.compile(rf"^{API_KEY_PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{32,128}})$")


def new_api_key() -> tuple[str, str]:
    """A fresh key: `(key_id, full_key)`; only the full key's hash may be stored."""
    key_id = secrets.token_hex(6)
    return key_id, f"{API_KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


def parse_api_key(text: str) -> tuple[str, str] | None:
    """`(key_id, secret)` of a well-formed key, else None (never raises on client input)."""
    if len(text) > API_KEY_MAX_CHARS:
        return None
    match = _API_KEY.match(text)
    return (match.group(1), match.group(2)) if match else None


# ----- JWT ---------------------------------------------------------------------------------------

JWT_ALGORITHM = "HS256"
JWT_ISSUER = "mlsec"
MIN_JWT_SECRET_BYTES = 32  # RFC 7518 3.2: an HS256 key is at least as long as the hash
PrincipalKind = Literal["api_key", "user", "service"]


class TokenError(Exception):
    """A token that must be refused; the message says why in a few words (never the token)."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token says about its bearer."""

    subject: str
    role: Role
    kind: PrincipalKind
    key_id: str | None
    issued_at: int
    expires_at: int


def _check_secret(secret: str) -> bytes:
    raw = secret.encode()
    if len(raw) < MIN_JWT_SECRET_BYTES:
        raise ValueError(f"a JWT secret needs at least {MIN_JWT_SECRET_BYTES} bytes")
    return raw


def issue_token(
    subject: str,
    role: Role,
    secret: str,
    ttl_seconds: int,
    *,
    kind: PrincipalKind = "user",
    key_id: str | None = None,
) -> str:
    """A signed JWT for `subject` with `role`, valid `ttl_seconds` from now."""
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "role": str(role),
        "kind": kind,
        "iss": JWT_ISSUER,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": secrets.token_hex(8),
    }
    if key_id is not None:
        claims["kid"] = key_id
    return jwt.encode(claims, _check_secret(secret), algorithm=JWT_ALGORITHM)


def decode_token(token: str, secret: str) -> TokenClaims:
    """Verify a JWT's signature, issuer and expiry; TokenError says which check failed."""
    try:
        claims = jwt.decode(
            token,
            _check_secret(secret),
            algorithms=[JWT_ALGORITHM],
            issuer=JWT_ISSUER,
            options={"require": ["sub", "exp", "iat", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token expired") from None
    except jwt.InvalidSignatureError:
        raise TokenError("token signature is invalid") from None
    except jwt.InvalidTokenError as exc:
        raise TokenError(f"invalid token ({type(exc).__name__})") from None
    try:
        role = Role(str(claims.get("role")))
    except ValueError:
        raise TokenError("invalid token (unknown role)") from None
    kind = claims.get("kind", "user")
    if kind not in ("api_key", "user"):
        raise TokenError("invalid token (unknown kind)")
    key_id = claims.get("kid")
    return TokenClaims(
        subject=str(claims["sub"]),
        role=role,
        kind=kind,
        key_id=key_id if isinstance(key_id, str) else None,
        issued_at=int(claims["iat"]),
        expires_at=int(claims["exp"]),
    )


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user, an API key, or a platform service (internal token)."""

    subject: str
    role: Role
    kind: PrincipalKind
    key_id: str | None = None

    @property
    def identity(self) -> str:
        """A stable name for rate limits and audit fields (`api_key:<id>`, `user:<name>`, ...)."""
        return f"{self.kind}:{self.key_id or self.subject}"


Origin = tuple[str, str, int]


def _origin(url: httpx.URL) -> Origin:
    port = url.port or (443 if url.scheme == "https" else 80)
    return (url.scheme, url.host, port)


class OriginHeaders(httpx.Auth):
    """Adds headers to requests for the given origins only, so a secret never reaches a third party."""

    def __init__(self, by_origin: Mapping[Origin, Mapping[str, str]]):
        self._by_origin = {origin: dict(headers) for origin, headers in by_origin.items()}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        for name, value in self._by_origin.get(_origin(request.url), {}).items():
            request.headers.setdefault(name, value)  # a header set on the call itself wins
        yield request


def platform_auth(settings: Settings, *, api_key: str | None = None) -> httpx.Auth | None:
    """Credentials for calls to the platform: the service token (`load_service_token`) to every service, an
    API key to the gateway."""
    by_origin: dict[Origin, dict[str, str]] = {}
    token = load_service_token(settings)
    for spec in SERVICES:
        try:
            origin = _origin(httpx.URL(settings.url_for(spec)))
        except httpx.InvalidURL:  # e.g. a bare IPv6 host: no call can reach it, so it needs no credentials
            continue
        headers = by_origin.setdefault(origin, {})
        if token:
            headers[SERVICE_TOKEN_HEADER] = token
        if api_key and spec.name == "gateway":
            headers["Authorization"] = f"Bearer {api_key}"
    by_origin = {origin: headers for origin, headers in by_origin.items() if headers}
    return OriginHeaders(by_origin) if by_origin else None


# ----- the credentials file ---------------------------------------------------------------------

CREDENTIALS_FILE = "credentials"
API_KEY_ENV = "MLSEC_API_KEY"


def credentials_path(settings: Settings) -> Path:
    """Where the CLI and SDK find their API key when MLSEC_API_KEY is not set."""
    return settings.home / CREDENTIALS_FILE


def write_credentials(path: Path, api_key: str, *, key_id: str, role: Role) -> None:
    """Write the credentials file atomically, readable by its owner only (0600), never wider."""
    if parse_api_key(api_key) is None:
        raise ValueError("not an mlsec API key")
    text = (
        "# mlsec credentials: the API key the CLI and SDK send to the gateway. Keep this file private.\n"
        f'api_key = "{api_key}"\n'
        f'key_id = "{key_id}"\n'
        f'role = "{role}"\n'
        f'created_at = "{datetime.now(UTC).isoformat(timespec="seconds")}"\n'
    )
    write_private(path, text)


def read_credentials(path: Path) -> str | None:
    """The API key in a credentials file; None when there is no file; ConfigurationError when it is bad."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(
            f"cannot read the credentials file {path}: {type(exc).__name__} (fix it, or set {API_KEY_ENV})"
        ) from None
    key = data.get("api_key")
    if not isinstance(key, str) or parse_api_key(key) is None:
        raise ConfigurationError(f"the credentials file {path} holds no valid api_key (fix it, or set {API_KEY_ENV})")
    return key


def load_api_key(settings: Settings) -> str | None:
    """The key the CLI and SDK send: MLSEC_API_KEY, else the credentials file, else None."""
    if settings.api_key is not None:
        return settings.api_key.get_secret_value()
    return read_credentials(credentials_path(settings))
