"""Every route of the gateway x {anonymous, viewer, operator, admin}: 401/403 exactly where the policy says.

The routes come from the app itself, so a route added later is checked the day it appears. Backend
services are unreachable (closed ports, no retries): an allowed call may answer 404, 422, 502 or
503, never 401 or 403. Bodies are a JSON array, valid JSON that no endpoint's model accepts, so a
write is refused by validation before it could change anything.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import iter_route_contexts

from mlsec.core.auth import Role, role_allows
from mlsec.core.settings import Settings
from mlsec.services.gateway.service.security.guard import route_template
from mlsec.services.gateway.service.security.policy import PUBLIC, RULES, permission_table_markdown, requirement_for
from tests.api.gateway.security_support import ROLES, gateway_settings, running_gateway

pytestmark = pytest.mark.anyio
DOC = Path(__file__).resolve().parents[3] / "docs" / "security.md"
UNLIMITED = {f"rate_limit_{role}": "100000/minute" for role in ("viewer", "operator", "admin", "login")}


def _concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "dummy", template)


def _expected(need: object, role: Role | None) -> int | None:
    """401 or 403 when the policy refuses, None when it allows (then any other status is fine)."""
    if need == PUBLIC:
        return None
    assert isinstance(need, Role)
    if role is None:
        return 401
    return None if role_allows(role, need) else 403


async def test_every_route_answers_as_the_policy_says(settings: Settings) -> None:
    async with running_gateway(settings, gateway_settings(**UNLIMITED)) as gateway:
        keys = {role: await gateway.new_key(role) for role in ROLES}
        checked = 0
        for context in iter_route_contexts(gateway.app.routes):
            methods, path = getattr(context, "methods", None), context.path
            if not methods or path is None:  # WebSocket routes and mounts: tested on their own
                continue
            for method in sorted(methods):
                need = requirement_for(method, path)
                for role in (None, *ROLES):
                    headers = {} if role is None else gateway.as_key(keys[role])
                    if method not in ("GET", "HEAD"):
                        headers["content-type"] = "application/json"
                    response = await gateway.http.request(
                        method,
                        _concrete(path),
                        headers=headers,
                        content=b"[]" if method not in ("GET", "HEAD") else None,
                    )
                    want = _expected(need, role)
                    where = f"{method} {path} as {role or 'anonymous'}: {response.status_code}"
                    if want is None:
                        assert response.status_code not in (401, 403), where
                    else:
                        assert response.status_code == want, where
                    checked += 1
        assert checked >= 4 * 20


def test_the_documented_matrix_is_the_rule_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = "<!-- permission-table:start -->\n", "<!-- permission-table:end -->"
    assert start in text and end in text, "docs/security.md lost its generated table markers"
    documented = text.split(start, 1)[1].split(end, 1)[0]
    assert documented == permission_table_markdown(), (
        "docs/security.md differs from the rule table: paste permission_table_markdown() between the markers"
    )


@pytest.mark.parametrize(
    ("method", "path", "need"),
    [
        ("GET", "/health/live", PUBLIC),
        ("GET", "/health/ready", PUBLIC),
        ("POST", "/auth/token", PUBLIC),
        ("GET", "/docs", PUBLIC),
        ("GET", "/openapi.json", PUBLIC),
        ("GET", "/", PUBLIC),
        ("GET", "/static/app.js", PUBLIC),
        ("GET", "/health", Role.VIEWER),
        ("GET", "/dashboard", Role.VIEWER),
        ("GET", "/metrics", Role.VIEWER),
        ("HEAD", "/api/training/training/jobs", Role.VIEWER),
        ("GET", "/auth/me", Role.VIEWER),
        ("GET", "/api/model-cache/config", Role.VIEWER),
        ("POST", "/api/mlflow/api/2.0/mlflow/runs/search", Role.VIEWER),
        ("POST", "/api/model-api/predict", Role.OPERATOR),
        ("POST", "/api/model-api/v2/models/{model_name}/infer", Role.OPERATOR),
        ("POST", "/api/model-api/invocations", Role.OPERATOR),
        ("POST", "/api/training/training/train", Role.OPERATOR),
        ("POST", "/api/training/training/retrain", Role.OPERATOR),
        ("POST", "/api/training/data/upload-data", Role.OPERATOR),
        ("POST", "/api/training/training/jobs/{job_id}/cancel", Role.OPERATOR),
        ("POST", "/api/model-api/models/load", Role.OPERATOR),
        ("POST", "/api/model-cache/models/{model_name}/unload", Role.OPERATOR),
        ("POST", "/api/model-api/models/batch-load", Role.OPERATOR),
        ("POST", "/api/model-api/models/warm-cache/{model_name}", Role.OPERATOR),
        ("POST", "/events", Role.OPERATOR),
        ("PATCH", "/api/some-service/anything/new", Role.OPERATOR),
        ("PUT", "/api/training/training/config/{model_name}", Role.ADMIN),
        ("DELETE", "/api/model-cache/config", Role.ADMIN),
        ("POST", "/api/model-cache/clear-cache", Role.ADMIN),
        ("GET", "/auth/keys", Role.ADMIN),
        ("DELETE", "/auth/keys/{key_id}", Role.ADMIN),
        ("POST", "/auth/users", Role.ADMIN),
        ("DELETE", "/api/data-privacy/data-subjects/{subject_id}", Role.ADMIN),
        ("POST", "/api/data-privacy/retention/cleanup", Role.ADMIN),
        ("POST", "/api/data-privacy/data-subjects/{subject_id}/erase", Role.ADMIN),
        ("GET", "/api/data-privacy/data-subjects/{subject_id}", Role.VIEWER),
    ],
)
def test_policy_rules(method: str, path: str, need: object) -> None:
    assert requirement_for(method, path) == need


def test_the_table_ends_with_defaults_for_routes_added_later() -> None:
    assert (RULES[-2].pattern, RULES[-2].need) == ("**", Role.VIEWER)
    assert (RULES[-1].methods, RULES[-1].pattern, RULES[-1].need) == (None, "**", Role.OPERATOR)


async def test_the_template_includes_the_prefix_of_an_included_router() -> None:
    seen: list[str] = []

    async def record(request: Request) -> None:
        seen.append(route_template(request))

    inner = APIRouter(prefix="/keys")

    @inner.get("/{key_id}")
    async def read(key_id: str) -> dict[str, str]:
        return {"key_id": key_id}

    app = FastAPI(dependencies=[Depends(record)])
    app.include_router(inner, prefix="/auth")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        assert (await http.get("/auth/keys/abc")).status_code == 200
    assert seen == ["/auth/keys/{key_id}"]
    assert requirement_for("GET", seen[0]) == Role.ADMIN
