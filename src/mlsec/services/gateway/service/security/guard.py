"""`authorize`, the app-wide dependency that guards every gateway route, and the WebSocket's check.

For each request: find the matched route's template, look up what it needs (policy.py), identify
the caller from `Authorization: Bearer <token or API key>`, `X-API-Key`, the internal service
token, or the dashboard's session cookie (whose writes also need the CSRF token: session.py),
refuse with 401 (no valid credential) or 403 (role too low), then count the request against
the caller's rate limit (429 with Retry-After). The caller is left in `request.state.principal`.
Being a dependency of the app, it applies to routes added later as well as to those here now.

The check itself works on the ASGI scope alone (`admit`), so the relay's lane (api/relay.py), which serves the
forwarded routes without FastAPI's request and dependency machinery, runs exactly this guard too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, Request, WebSocket, WebSocketException, status
from starlette.datastructures import URL, QueryParams
from starlette.requests import HTTPConnection
from starlette.types import Scope

from mlsec.core.auth import Principal, Role, role_allows
from mlsec.core.errors import ForbiddenError, MlsecError, TooManyRequestsError, UnauthorizedError
from mlsec.core.ratelimit import RateDecision
from mlsec.core.service_token import SERVICE_TOKEN_HEADER
from mlsec.services.gateway.service.security.accounts import Guard
from mlsec.services.gateway.service.security.announce import ADMIN_ACTION
from mlsec.services.gateway.service.security.policy import PUBLIC, WRITE, requirement_for
from mlsec.services.gateway.service.security.session import csrf_matches, needs_csrf, same_origin, session_token
from mlsec.services.gateway.service.security.state import SecurityState

API_KEY_HEADER = "X-API-Key"
LOCAL_PRINCIPAL = Principal(subject="local", role=Role.ADMIN, kind="user")
"""Who everybody is when MLSEC_GATEWAY_AUTH_ENABLED=false (local experiments only)."""
MAX_CREDENTIAL_CHARS = 4096
_API_KEY_RAW = API_KEY_HEADER.lower().encode()
_SERVICE_TOKEN_RAW = SERVICE_TOKEN_HEADER.lower().encode()


def _security(scope: Scope) -> SecurityState:
    security: SecurityState = scope["app"].state.security
    return security


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


_CREDENTIAL_HEADERS = frozenset({b"authorization", _API_KEY_RAW, _SERVICE_TOKEN_RAW})


def _credential_headers(scope: Scope) -> dict[bytes, str]:
    """The headers that may carry a credential, the first of each (as `Headers.get`), in one pass."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _CREDENTIAL_HEADERS and name not in found:
            found[name] = value.decode("latin-1")
    return found


def _presented(scope: Scope, headers: dict[bytes, str]) -> str | None:
    """The bearer credential of a request (Authorization first, then X-API-Key; ?token= on a WebSocket)."""
    scheme, _, value = headers.get(b"authorization", "").partition(" ")
    credential = value.strip() if scheme.lower() == "bearer" else None
    credential = credential or headers.get(_API_KEY_RAW, "").strip() or None
    if credential is None and scope["type"] == "websocket":
        credential = QueryParams(scope.get("query_string", b"")).get("token") or None
    if credential is not None and len(credential) > MAX_CREDENTIAL_CHARS:
        raise UnauthorizedError("invalid credentials")
    return credential


def _too_many(message: str, decision: RateDecision) -> TooManyRequestsError:
    seconds = decision.retry_after_seconds
    return TooManyRequestsError(
        f"{message}; retry in {seconds} s",
        details={"retry_after_seconds": seconds},
        headers={"Retry-After": str(seconds)},
    )


def _login_guard(scope: Scope, security: SecurityState) -> Guard:
    """Bound the expensive checks (argon2) per client address: brute force costs the attacker, not us."""

    async def guard() -> None:
        decision = await security.limiter.hit(f"login:{_client(scope)}", security.settings.rate_limit_login)
        if not decision.allowed:
            raise _too_many("too many sign-in attempts from this address", decision)

    return guard


async def identify(scope: Scope, security: SecurityState) -> Principal | None:
    """The caller, or None when it presented nothing; UnauthorizedError when what it presented is not valid."""
    headers = _credential_headers(scope)
    credential = _presented(scope, headers)
    if credential is not None:
        principal = await security.authenticator.authenticate(credential, guard=_login_guard(scope, security))
        if principal is None:
            raise UnauthorizedError("invalid or expired credentials")
        return principal
    token = headers.get(_SERVICE_TOKEN_RAW)
    if token:
        principal = security.authenticator.authenticate_service(token)
        if principal is None:
            raise UnauthorizedError(f"invalid {SERVICE_TOKEN_HEADER}")
        return principal
    return await _from_session(scope, security)


async def _from_session(scope: Scope, security: SecurityState) -> Principal | None:
    """The dashboard's caller, from its session cookie: a write must carry the session's CSRF token, a WebSocket
    must come from this origin."""
    token = session_token(scope)
    if token is None:
        return None
    principal = await security.authenticator.authenticate(token)
    if principal is None:
        raise UnauthorizedError("the session has expired or was revoked: sign in again")
    if scope["type"] == "websocket" and not same_origin(scope):
        raise ForbiddenError("a session's WebSocket must come from the dashboard's own origin")
    if needs_csrf(scope) and not csrf_matches(scope, security.authenticator.csrf_token(token)):
        raise ForbiddenError("missing or invalid CSRF token: a write from a browser session needs X-CSRF-Token")
    return principal


def route_template(conn: Scope | HTTPConnection) -> str:
    """The matched route's path template, with the prefixes of every router it was included through.

    FastAPI >= 0.165 puts the route as declared in `scope["route"]` (without the prefix that
    `include_router(prefix=...)` adds) and the effective route, prefix included, in its own scope
    entry: prefer the latter, so that a prefixed router cannot slip past a rule.
    """
    scope = conn.scope if isinstance(conn, HTTPConnection) else conn
    effective = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(effective, "path_format", None) or getattr(scope.get("route"), "path", None)
    return template if isinstance(template, str) else URL(scope=scope).path


async def _check(scope: Scope, security: SecurityState) -> Principal | None:
    method = "GET" if scope["type"] == "websocket" else scope["method"]
    template = route_template(scope)
    need = requirement_for(method, template)
    if need == PUBLIC:
        if method not in ("GET", "HEAD"):  # sign-in: every attempt counts against the address
            await _login_guard(scope, security)()
        return None
    principal = await identify(scope, security)
    if principal is None:
        raise UnauthorizedError(
            "authentication required: send Authorization: Bearer <token or API key>, or X-API-Key, or sign in",
            details={"required_role": str(need)},
        )
    if need == Role.ADMIN and method in WRITE:
        scope.setdefault("state", {})[ADMIN_ACTION] = f"{method} {template}"  # announce.py writes it on success
    if not role_allows(principal.role, need):
        raise ForbiddenError(
            f"role {principal.role} may not {method} {template}; it needs {need}",
            details={"role": str(principal.role), "required_role": str(need)},
        )
    if principal.kind != "service":  # platform services are trusted peers, not subject to user limits
        limit = security.limit_for(principal.role)
        decision = await security.limiter.hit(principal.identity, limit)
        if not decision.allowed:
            raise _too_many(f"rate limit of {limit} exceeded", decision)
    return principal


async def admit(scope: Scope) -> Principal | None:
    """The guard on the ASGI scope alone, for the relay's lane (which makes no request object): 401/403/429 as
    MlsecError, else the caller, also left in the request's state as `authorize` leaves it."""
    security = _security(scope)
    principal = LOCAL_PRINCIPAL if not security.settings.auth_enabled else await _check(scope, security)
    scope.setdefault("state", {})["principal"] = principal
    return principal


async def authorize(conn: HTTPConnection) -> Principal | None:
    """The app-wide guard: 401/403/429 in the error envelope, else the caller in `state.principal`."""
    try:
        return await admit(conn.scope)
    except MlsecError as exc:
        if conn.scope["type"] == "websocket":  # closing before accepting answers HTTP 403
            raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION, reason=exc.message[:120]) from None
        raise


def guard_errors(method: str, path: str, operation: dict[str, Any]) -> Iterable[int]:
    """What `authorize` may answer on a route, for its OpenAPI operation (mlsec.core.openapi): 401, 403 when a
    viewer is not enough, 429; on public routes only the sign-in limit of writes (429)."""
    need = requirement_for(method, path)
    if need == PUBLIC:
        return () if method in ("GET", "HEAD") else (429,)
    return (401, 429) if need == Role.VIEWER else (401, 403, 429)


async def authenticate_websocket(websocket: WebSocket) -> Principal | None:
    """The WebSocket's caller (`?token=` or the Authorization header); None when there is no valid one."""
    known = getattr(websocket.state, "principal", None)
    if isinstance(known, Principal):
        return known
    security = _security(websocket.scope)
    if not security.settings.auth_enabled:
        return LOCAL_PRINCIPAL
    try:
        return await identify(websocket.scope, security)
    except MlsecError:
        return None


async def current_principal(request: Request) -> Principal:
    """The caller `authorize` identified (a FastAPI dependency for routes that are never public).

    `async` on purpose, as every dependency here: FastAPI runs a plain `def` dependency in a worker
    thread, a hop that costs more than everything else the gateway does for a request."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise UnauthorizedError()
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
