"""The internal service token, and who called: how a service knows a request comes from the platform.

- When the token is set, services accept only requests carrying it (`ServiceTokenMiddleware`; a service off
  loopback refuses to start without one); services, the CLI and the SDK send it (`platform_auth` in
  mlsec.core.auth); `mlsec up` makes one per run and leaves it in `MLSEC_HOME/run/service-token` (0600) for
  the CLI and the SDK of the same machine.
- Who called (`X-Mlsec-Caller`) counts only on a request that carries the service token (`trusted_caller`);
  otherwise the caller is `api`.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
from collections.abc import Mapping
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from mlsec.core.errors import error_body
from mlsec.core.files import write_private
from mlsec.core.settings import ConfigurationError, Settings

SERVICE_TOKEN_HEADER = "X-Mlsec-Service-Token"  # noqa: S105 - a header name, not a secret
SERVICE_TOKEN_ENV = "MLSEC_SERVICE_TOKEN"  # noqa: S105 - a variable name, not a secret
SERVICE_TOKEN_FILE = Path("run") / "service-token"
"""Where `mlsec up` leaves the token it generated for its run, under MLSEC_HOME (0600)."""
OPEN_PROBES = frozenset({("GET", "/health/live"), ("GET", "/health/ready")})
"""What a service answers without the token: orchestrators' probes carry no secrets."""
_TOKEN_HEADER_RAW = SERVICE_TOKEN_HEADER.lower().encode()


def is_loopback(host: str) -> bool:
    """Whether a bind address is reachable only from this machine (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def service_token_required(service: str, settings: Settings) -> bool:
    """Every service but the gateway (which has user auth instead) requires the token on every route but the
    probes whenever one is set, on loopback too (under `mlsec up` always: it makes one per run)."""
    return service != "gateway" and settings.service_token is not None


def check_service_token(service: str, settings: Settings) -> None:
    """Refuse to start a service that would listen on the network without a token to require."""
    if service != "gateway" and not is_loopback(settings.host) and settings.service_token is None:
        raise ConfigurationError(
            f"{service} binds {settings.host}, a non-loopback address, so it requires the internal service "
            f"token: set {SERVICE_TOKEN_ENV} (the same value for every service; setting {SERVICE_TOKEN_ENV})"
        )


class ServiceTokenMiddleware:
    """Pure-ASGI guard: without the right token, every request but the probes gets a 401 envelope.

    Pure ASGI, and first after the request-id middleware, so a refused request costs no body read
    and no routing. The comparison is constant-time.
    """

    def __init__(self, app: ASGIApp, *, token: str | None, enforce: bool):
        if enforce and not token:
            raise ValueError("an enforcing ServiceTokenMiddleware needs a token")
        self.app = app
        self.enforce = enforce
        self._token = (token or "").encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enforce or scope["type"] not in ("http", "websocket") or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":  # closing before accepting answers HTTP 403
            await send({"type": "websocket.close", "code": 1008, "reason": "service token required"})
            return
        message = f"missing or wrong {SERVICE_TOKEN_HEADER}"
        body = json.dumps(error_body(status_code=401, message=message, path=scope["path"])).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _allowed(self, scope: Scope) -> bool:
        if scope["type"] == "http" and (scope["method"], scope["path"]) in OPEN_PROBES:
            return True
        presented = next((value for name, value in scope.get("headers", ()) if name == _TOKEN_HEADER_RAW), b"")
        return hmac.compare_digest(presented, self._token)


def service_token_path(settings: Settings) -> Path:
    """Where `mlsec up` leaves its run's service token for the CLI and the SDK: `MLSEC_HOME/run/service-token`."""
    return settings.home / SERVICE_TOKEN_FILE


def write_service_token(settings: Settings, token: str) -> Path:
    """Leave the run's token where the CLI and the SDK of this machine find it (0600, in a 0700 folder)."""
    path = service_token_path(settings)
    write_private(path, token + "\n")
    return path


def load_service_token(settings: Settings) -> str | None:
    """The service token to send: MLSEC_SERVICE_TOKEN, else the one `mlsec up` left in MLSEC_HOME, else None."""
    if settings.service_token is not None:
        return settings.service_token.get_secret_value()
    path = service_token_path(settings)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"cannot read the service token file {path}: {type(exc).__name__} (remove it, or set {SERVICE_TOKEN_ENV})"
        ) from None
    return token or None


# ----- who called --------------------------------------------------------------------------------

CALLER_HEADER = "X-Mlsec-Caller"
"""Who called the gateway (a principal's `identity`), passed on with the calls it forwards, for audit fields
(who acknowledged an alert, who moved a champion). It counts only on a request that carries the internal
service token (`trusted_caller`): the gateway forwards no such header of a client, and sets it itself."""
ANONYMOUS_CALLER = "api"
"""The caller recorded for a request that names none with proof: a script calling a service directly."""
_CALLER = re.compile(r"^[A-Za-z0-9_.:@-]{1,100}$")


def trusted_caller(headers: Mapping[str, str], service_token: str | None) -> str:
    """The caller a platform service named in `X-Mlsec-Caller`, when the request also carries the service
    token (compared in constant time); else `api`, as for a malformed name. Without a configured token
    nobody can prove to be a platform service, so every caller is `api`."""
    value = headers.get(CALLER_HEADER)
    if value is None or service_token is None or not _CALLER.match(value):
        return ANONYMOUS_CALLER
    presented = headers.get(SERVICE_TOKEN_HEADER, "").encode()
    return value if hmac.compare_digest(presented, service_token.encode()) else ANONYMOUS_CALLER
