"""The relay route serves `/api/<service>/...` exactly as FastAPI's router would have.

The relay is matched first and only takes full matches; the documented FastAPI routes behind it must see
everything else. So for every forwarded route: a concrete request is claimed by the relay for the same
route FastAPI's router picks (first match in declaration order wins, as `/models/load` before
`/models/{name}`), a wrong method is left to FastAPI (405), and paths that are not forwarded are left alone.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match

from mlsec.core.settings import Settings
from mlsec.services.gateway.api.relay import RelayRoute
from mlsec.services.gateway.app import create_app
from tests.api.gateway.security_support import gateway_settings
from tests.conftest import make_settings


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}


def _concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "some-value", template)


def _fastapi_choice(app: FastAPI, scope: dict[str, Any]) -> APIRoute | None:
    """The route FastAPI's router picks for a request, the relay left out."""
    for route in app.router.routes:
        if isinstance(route, RelayRoute):
            continue
        match, child = route.matches(scope)
        if match is Match.FULL:
            chosen = child.get("route", route)
            return chosen if isinstance(chosen, APIRoute) else None
    return None


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    settings: Settings = make_settings(tmp_path_factory.mktemp("home"))
    return create_app(settings, gateway_settings())


def _relay(app: FastAPI) -> RelayRoute:
    first = app.router.routes[0]
    assert isinstance(first, RelayRoute), "the relay must be matched before every other route"
    return first


def test_the_relay_claims_every_forwarded_route_as_fastapi_would(app: FastAPI) -> None:
    relay = _relay(app)
    forwarded = [r for r in app.router.routes if isinstance(r, APIRoute) and r.path.startswith("/api/")]
    assert len(forwarded) > 100
    for route in forwarded:
        for method in route.methods or ():
            scope = _scope(method, _concrete(route.path))
            match, child = relay.matches(scope)
            expected = _fastapi_choice(app, scope)
            assert match is Match.FULL, f"the relay lets {method} {route.path} through"
            assert expected is not None
            where = f"{method} {route.path}: relay {child['route'].path}, FastAPI {expected.path}"
            assert child["route"] is expected, where
            assert child["path_params"] == dict.fromkeys(expected.param_convertors, "some-value")


def test_path_parameters_arrive_decoded_per_route(app: FastAPI) -> None:
    match, child = _relay(app).matches(_scope("POST", "/api/model-cache/models/my-model/unload"))
    assert match is Match.FULL
    assert child["route"].path == "/api/model-cache/models/{model_name}/unload"
    assert child["path_params"] == {"model_name": "my-model"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/model-api/predict"),  # a known path, another method: FastAPI answers 405
        ("GET", "/api/model-api/no-such-route"),  # FastAPI answers 404
        ("GET", "/api/no-such-service/health"),
        ("GET", "/health"),  # the gateway's own routes
        ("GET", "/apix/model-api/health"),
    ],
)
def test_what_is_not_a_forwarded_route_is_left_to_fastapi(app: FastAPI, method: str, path: str) -> None:
    match, _ = _relay(app).matches(_scope(method, path))
    assert match is Match.NONE


def test_websockets_are_left_alone(app: FastAPI) -> None:
    scope = {**_scope("GET", "/api/model-api/health"), "type": "websocket"}
    assert _relay(app).matches(scope)[0] is Match.NONE
