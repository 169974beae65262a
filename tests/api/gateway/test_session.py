"""The dashboard's session through HTTP: sign-in into an HttpOnly cookie, CSRF on every cookie write, sign-out, and
the pages that send a browser without a session to the sign-in page."""

from __future__ import annotations

from typing import Any

import pytest

from mlsec.core.auth import Role
from mlsec.core.settings import Settings
from mlsec.services.gateway.service.dashboard import PAGES
from tests.api.gateway.security_support import Gateway, running_gateway

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def gateway(settings: Settings) -> Any:
    async with running_gateway(settings) as running:
        yield running


async def _sign_in(gateway: Gateway, **credentials: str) -> str:
    """Sign the client in (its cookie jar keeps the session); the CSRF token."""
    response = await gateway.http.post("/auth/session", json=credentials)
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


async def test_signing_in_sets_an_httponly_strict_cookie_and_answers_the_csrf_token(gateway: Gateway) -> None:
    response = await gateway.http.post("/auth/session", json={"api_key": gateway.admin_key})
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "admin" and body["kind"] == "api_key" and body["expires_in"] == 8 * 3600
    assert len(body["csrf_token"]) >= 40
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("mlsec_session=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "path", "max-age"} <= attributes
    assert "samesite=strict" in cookie.lower() and "secure" not in attributes  # plain http in the test
    session_value = cookie.split(";")[0].split("=", 1)[1]
    assert session_value not in response.text and gateway.admin_key not in cookie  # the token stays in the cookie


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"api_key": "mlsec_x", "username": "ada", "password": "p"},
        {"username": "ada"},
        {"username": "a" * 65, "password": "p"},
        {"api_key": "k" * 5000},
        {"api_key": "mlsec_x", "extra": 1},
    ],
)
async def test_bad_sign_in_bodies_are_refused_with_422(gateway: Gateway, body: dict[str, Any]) -> None:
    response = await gateway.http.post("/auth/session", json=body)
    assert response.status_code == 422
    assert "set-cookie" not in response.headers


async def test_wrong_credentials_get_401_and_no_cookie(gateway: Gateway) -> None:
    response = await gateway.http.post("/auth/session", json={"api_key": "mlsec_" + "0" * 12 + "_" + "x" * 32})
    assert response.status_code == 401 and response.json()["message"] == "invalid credentials"
    assert "set-cookie" not in response.headers
    by_password = await gateway.http.post("/auth/session", json={"username": "nobody", "password": PASSWORD})
    assert by_password.status_code == 401 and "set-cookie" not in by_password.headers


async def test_the_cookie_reads_but_a_write_needs_the_csrf_token(gateway: Gateway) -> None:
    csrf = await _sign_in(gateway, api_key=gateway.admin_key)
    assert (await gateway.http.get("/auth/me")).json()["role"] == "admin"
    key = {"name": "from-dashboard", "role": "viewer"}
    missing = await gateway.http.post("/auth/keys", json=key)
    assert missing.status_code == 403 and "CSRF" in missing.json()["message"]
    wrong = await gateway.http.post("/auth/keys", json=key, headers={"X-CSRF-Token": csrf[:-2] + "xx"})
    assert wrong.status_code == 403
    right = await gateway.http.post("/auth/keys", json=key, headers={"X-CSRF-Token": csrf})
    assert right.status_code == 201
    # A forwarded route (the relay's own lane) applies the same rule.
    relayed = await gateway.http.post("/api/model-api/predict", json={"text": "hello"})
    assert relayed.status_code == 403


async def test_a_csrf_token_of_another_session_does_not_open_this_one(gateway: Gateway) -> None:
    other = await _sign_in(gateway, api_key=await gateway.new_key(Role.ADMIN, "other"))
    await _sign_in(gateway, api_key=gateway.admin_key)  # the jar now holds this session
    response = await gateway.http.post(
        "/auth/keys", json={"name": "x", "role": "viewer"}, headers={"X-CSRF-Token": other}
    )
    assert response.status_code == 403


async def test_a_header_credential_needs_no_csrf_token_even_beside_a_cookie(gateway: Gateway) -> None:
    await _sign_in(gateway, api_key=await gateway.new_key(Role.VIEWER))
    response = await gateway.http.post(
        "/auth/keys", json={"name": "scripted", "role": "viewer"}, headers=gateway.as_key(gateway.admin_key)
    )
    assert response.status_code == 201  # the header wins over the cookie, and cannot be forged cross-site


async def test_session_reads_and_sign_out_clears_the_cookie(gateway: Gateway) -> None:
    csrf = await _sign_in(gateway, api_key=gateway.admin_key)
    session = await gateway.http.get("/auth/session")
    assert session.status_code == 200 and session.json()["csrf_token"] == csrf
    assert (await gateway.http.delete("/auth/session")).status_code == 403  # sign-out is a write: CSRF too
    out = await gateway.http.delete("/auth/session", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert 'mlsec_session=""' in out.headers["set-cookie"] or "max-age=0" in out.headers["set-cookie"].lower()
    assert (await gateway.http.get("/auth/me")).status_code == 401


async def test_a_key_caller_has_no_csrf_token(gateway: Gateway) -> None:
    session = await gateway.http.get("/auth/session", headers=gateway.as_key(gateway.admin_key))
    assert session.status_code == 200 and session.json()["csrf_token"] is None


async def test_a_forged_or_expired_cookie_is_refused(gateway: Gateway) -> None:
    gateway.http.cookies.set("mlsec_session", "not-a-token")
    response = await gateway.http.get("/auth/me")
    assert response.status_code == 401 and "sign in again" in response.json()["message"]
    gateway.http.cookies.set("mlsec_session", "x" * 5000)  # oversized: ignored, as if absent
    assert (await gateway.http.get("/auth/me")).status_code == 401


async def test_a_demoted_users_session_loses_the_role_at_once(gateway: Gateway) -> None:
    admin = gateway.as_key(gateway.admin_key)
    created = await gateway.http.post(
        "/auth/users", json={"username": "ada", "password": PASSWORD, "role": "admin"}, headers=admin
    )
    assert created.status_code == 201
    csrf = await _sign_in(gateway, username="ada", password=PASSWORD)
    assert (await gateway.http.patch("/auth/users/ada", json={"role": "viewer"}, headers=admin)).status_code == 200
    response = await gateway.http.get("/auth/keys", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 403


async def test_pages_send_a_browser_without_a_session_to_the_sign_in_page(gateway: Gateway) -> None:
    root = await gateway.http.get("/")
    assert root.status_code == 303 and root.headers["location"] == "/ui/overview"
    page = await gateway.http.get("/ui/overview")
    assert page.status_code == 303 and page.headers["location"] == "/ui/sign-in?next=/ui/overview"
    sign_in = await gateway.http.get("/ui/sign-in?next=/ui/try")
    assert sign_in.status_code == 200 and 'id="sign-in-form"' in sign_in.text and 'data-next="/ui/try"' in sign_in.text
    partial = await gateway.http.get("/ui/overview/partials/services")
    assert partial.status_code == 401 and partial.headers["hx-redirect"] == "/ui/sign-in"


@pytest.mark.parametrize("next_path", ["https://evil.example/", "//evil.example", "/api/x", "/ui/../auth"])
async def test_the_sign_in_page_redirects_only_to_its_own_pages(gateway: Gateway, next_path: str) -> None:
    response = await gateway.http.get("/ui/sign-in", params={"next": next_path})
    assert response.status_code == 422


async def test_a_signed_in_admin_gets_pages_with_their_csrf_token_and_write_controls(gateway: Gateway) -> None:
    csrf = await _sign_in(gateway, api_key=gateway.admin_key)
    overview = await gateway.http.get("/ui/overview")
    assert overview.status_code == 200 and overview.headers["content-type"].startswith("text/html")
    assert f'<meta name="csrf-token" content="{csrf}">' in overview.text
    assert 'data-role="admin"' in overview.text and 'id="services"' in overview.text
    assert 'data-service="model-api"' in overview.text and "unreachable" in overview.text  # nothing runs here
    try_it = await gateway.http.get("/ui/try")
    assert 'id="try-submit" class="write-control"' in try_it.text
    services = await gateway.http.get("/ui/overview/partials/services")
    assert services.status_code == 200 and services.text.lstrip().startswith("<table")
    assert (await gateway.http.get("/ui/sign-in")).status_code == 303  # already signed in


async def test_a_viewer_gets_no_write_control(gateway: Gateway) -> None:
    await _sign_in(gateway, api_key=await gateway.new_key(Role.VIEWER))
    for name in ("overview", "try"):
        page = await gateway.http.get(f"/ui/{name}")
        assert page.status_code == 200 and 'data-role="viewer"' in page.text
        assert "write-control" not in page.text and "admin-control" not in page.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ui/nothing-here", 404),
        ("/ui/Overview", 422),
        ("/ui/overview/partials/nothing", 404),
        ("/ui/a" + "b" * 40, 422),
    ],
)
async def test_unknown_pages_and_parts(gateway: Gateway, path: str, status: int) -> None:
    await _sign_in(gateway, api_key=gateway.admin_key)
    assert (await gateway.http.get(path)).status_code == status


async def test_the_dashboards_files_are_public_and_carry_their_licences(gateway: Gateway) -> None:
    for path in ("/static/dashboard.js", "/static/dashboard.css", "/static/vendor/htmx.org/htmx.min.js"):
        assert (await gateway.http.get(path)).status_code == 200, path
    licence = await gateway.http.get("/static/vendor/uplot/LICENSE")
    assert licence.status_code == 200 and "MIT" in licence.text
    assert (await gateway.http.get("/static/../app.py")).status_code == 404


async def test_every_page_and_part_renders_while_no_service_answers(gateway: Gateway) -> None:
    """Each page of the navigation, and each part htmx refreshes, answers HTML for the roles that may see it,
    without a write control for a viewer, even with every service behind the gateway down."""
    await _sign_in(gateway, api_key=await gateway.new_key(Role.VIEWER))
    for name, page in PAGES.items():
        viewer = await gateway.http.get(f"/ui/{name}")
        if page.need == Role.ADMIN:
            assert viewer.status_code == 403, name
            continue
        assert viewer.status_code == 200 and f'data-page="{name}"' in viewer.text, name
        assert "write-control" not in viewer.text and "admin-control" not in viewer.text, name
    await _sign_in(gateway, api_key=gateway.admin_key)
    for name, page in PAGES.items():
        admin = await gateway.http.get(f"/ui/{name}")
        assert admin.status_code == 200 and f'<main id="content" data-page="{name}"' in admin.text, name
        for part in page.partials:
            answer = await gateway.http.get(f"/ui/{name}/partials/{part}")
            assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html"), (name, part)
