"""Rendering the dashboard: the Jinja2 environment, who may see a page, and the page shell's context."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.types import Scope

from mlsec.core.auth import Principal, Role, role_allows
from mlsec.core.errors import MlsecError
from mlsec.dashboard import TEMPLATES_DIR
from mlsec.services.gateway.service.dashboard.pages import Page
from mlsec.services.gateway.service.dashboard.traces import trace_link
from mlsec.services.gateway.service.security.guard import LOCAL_PRINCIPAL, identify
from mlsec.services.gateway.service.security.session import session_token
from mlsec.services.gateway.service.security.state import SecurityState


def _number(value: Any, digits: int = 3) -> str:
    """A figure for a table: integers with thousands separators, floats rounded, anything else as text."""
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _when(value: Any) -> str:
    """An ISO timestamp as `YYYY-MM-DD HH:MM:SS` (UTC), for tables."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            return value
    return "-" if value is None else str(value)


def build_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["number"] = _number
    environment.filters["when"] = _when
    environment.filters["trace_link"] = trace_link  # a record's `trace_id` as the traces page's address, or None
    environment.filters["tojson_attr"] = lambda value: json.dumps(value, separators=(",", ":"), default=str)
    return environment


async def signed_in(scope: Scope, security: SecurityState) -> Principal | None:
    """The dashboard's caller: its session (or a key, for scripts), None when nobody valid is signed in."""
    if not security.settings.auth_enabled:
        return LOCAL_PRINCIPAL
    try:
        return await identify(scope, security)
    except MlsecError:
        return None


def may_see(principal: Principal, page: Page) -> bool:
    return role_allows(principal.role, page.need)


def shell(scope: Scope, security: SecurityState, principal: Principal, page: Page, pages: list[Page]) -> dict[str, Any]:
    """What every page's frame shows: the navigation the caller may use, who is signed in, the CSRF token."""
    token = session_token(scope)
    return {
        "page": page,
        "pages": [p for p in pages if may_see(principal, p)],
        "principal": principal,
        "can_write": role_allows(principal.role, Role.OPERATOR),
        "is_admin": role_allows(principal.role, Role.ADMIN),
        "csrf_token": security.authenticator.csrf_token(token) if token is not None else "",
        "topics": list(page.topics),
    }
