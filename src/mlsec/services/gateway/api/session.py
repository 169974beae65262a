"""`/auth/session`: the dashboard's sign-in and sign-out, the session in an HttpOnly cookie (security/session.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from mlsec.core.errors import UnauthorizedError
from mlsec.core.openapi import error_responses
from mlsec.services.gateway.api.auth import SecurityDep
from mlsec.services.gateway.schemas.auth import SessionRead, TokenRequest
from mlsec.services.gateway.service.security.guard import PrincipalDep
from mlsec.services.gateway.service.security.session import clear_session_cookie, session_token, set_session_cookie

router = APIRouter(prefix="/auth", tags=["auth"])


def _secure(request: Request, security: SecurityDep) -> bool:
    return security.settings.session_cookie_secure or request.url.scheme == "https"


@router.post("/session", response_model=SessionRead, responses=error_responses(401))
async def create_session(
    body: TokenRequest, request: Request, response: Response, security: SecurityDep
) -> SessionRead:
    """Sign in with a username and password or an API key: the session goes into an HttpOnly, SameSite=Strict
    cookie, and the answer gives the CSRF token the dashboard's writes must carry (401 without saying why)."""
    principal = await security.authenticator.sign_in(
        username=body.username,
        password=body.password.get_secret_value() if body.password else None,
        api_key=body.api_key.get_secret_value() if body.api_key else None,
    )
    if principal is None:
        raise UnauthorizedError("invalid credentials")
    ttl = security.settings.session_ttl_seconds
    token = security.authenticator.issue(principal, ttl_seconds=ttl)
    set_session_cookie(response, token, max_age=ttl, secure=_secure(request, security))
    return SessionRead(
        subject=principal.subject,
        role=principal.role,
        kind=principal.kind,
        csrf_token=security.authenticator.csrf_token(token),
        expires_in=ttl,
    )


@router.get("/session", response_model=SessionRead)
async def get_session(request: Request, principal: PrincipalDep, security: SecurityDep) -> SessionRead:
    """Who is signed in, and the session's CSRF token (null when the caller used a key or a bearer token)."""
    token = session_token(request.scope)
    csrf = security.authenticator.csrf_token(token) if token is not None else None
    return SessionRead(subject=principal.subject, role=principal.role, kind=principal.kind, csrf_token=csrf)


@router.delete("/session", status_code=204, response_class=Response)
async def delete_session(request: Request, principal: PrincipalDep, security: SecurityDep) -> Response:
    """Sign out: the cookie is cleared (a session token copied elsewhere stays valid until it expires)."""
    response = Response(status_code=204)
    clear_session_cookie(response, secure=_secure(request, security))
    return response
