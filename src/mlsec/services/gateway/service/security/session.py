"""The dashboard's sign-in: a session cookie that browsers cannot leak to scripts or other sites, and its CSRF token.

A browser signs in once (`POST /auth/session`) and from then on carries a signed token (the gateway's JWT) in the
`mlsec_session` cookie: HttpOnly (no script reads it, so no XSS steals it and nothing sits in localStorage),
SameSite=Strict (no other site's page makes the browser send it), Secure over HTTPS. A cookie is sent by the
browser on its own, so a write authenticated by it also needs the `X-CSRF-Token` header: an HMAC of the session
that only a page the gateway rendered for that session knows. A request with an `Authorization` header or an API
key is not a browser session and needs no CSRF token: no other site can make a browser send those.
"""

from __future__ import annotations

import hmac

from starlette.responses import Response
from starlette.types import Scope

SESSION_COOKIE = "mlsec_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_COOKIE_CHARS = 4096
_COOKIE_RAW = b"cookie"
_CSRF_RAW = CSRF_HEADER.lower().encode()


def session_token(scope: Scope) -> str | None:
    """The session token the browser sent in its cookie, if any. Parsed by hand (`name=value; ...`): the token is
    base64url and dots, and `http.cookies` gives up on a whole header for one odd cookie of another site."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name != _COOKIE_RAW or len(value) > MAX_COOKIE_CHARS:
            continue
        for pair in value.decode("latin-1").split(";"):
            key, _, found = pair.strip().partition("=")
            if key == SESSION_COOKIE and found:
                return found.strip('"')
    return None


def needs_csrf(scope: Scope) -> bool:
    """Whether a cookie-authenticated request must prove it comes from our own page: every write does."""
    return scope["type"] == "http" and scope["method"] not in SAFE_METHODS


def csrf_matches(scope: Scope, expected: str) -> bool:
    presented = next((value for name, value in scope["headers"] if name == _CSRF_RAW), b"")
    return hmac.compare_digest(presented, expected.encode())


def same_origin(scope: Scope) -> bool:
    """A WebSocket handshake carrying the cookie must come from a page of this origin (browsers send `Origin`; a
    cookie-authenticated socket opened from another site is refused, SameSite notwithstanding)."""
    headers: dict[bytes, bytes] = dict(scope["headers"])
    origin, host = headers.get(b"origin"), headers.get(b"host")
    if origin is None or host is None:
        return False
    return origin.split(b"://", 1)[-1] == host


def set_session_cookie(response: Response, token: str, *, max_age: int, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, path="/", secure=secure, httponly=True, samesite="strict"
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="strict")
