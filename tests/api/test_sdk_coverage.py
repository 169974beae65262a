"""100% API coverage, checked: every route of every service has an SDK method and a gateway route, and the
SDK declares no route that does not exist. Services added later are covered without changing this test: a
service without a client fails it."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from fastapi import FastAPI

from mlsec.client import CLIENT_CLASSES, endpoints
from mlsec.client.gateway import GatewayClient
from mlsec.core.services import SERVICES, ServiceSpec
from mlsec.core.settings import Settings

_PARAMETER = re.compile(r"\{[^}/]+\}")
# The gateway's own routes that are not an API to call from Python: the dashboard's browser session (a cookie and
# its CSRF token; a program uses POST /auth/token or its API key instead).
GATEWAY_ONLY = frozenset({("POST", "/auth/session"), ("GET", "/auth/session"), ("DELETE", "/auth/session")})


def _routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template with parameter names erased) of every operation in the app's OpenAPI."""
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return {(method.upper(), _PARAMETER.sub("{}", path)) for path, operations in paths.items() for method in operations}


def _app(spec: ServiceSpec, settings: Settings) -> FastAPI:
    app: FastAPI = importlib.import_module(spec.app_module).create_app(settings)
    return app


@pytest.mark.parametrize("spec", [spec for spec in SERVICES if spec.name != "gateway"], ids=lambda s: s.name)
def test_the_sdk_declares_exactly_the_routes_of_each_service(spec: ServiceSpec, settings: Settings) -> None:
    assert spec.name in CLIENT_CLASSES, f"no SDK client for service {spec.name}: add one to mlsec.client"
    served = _routes(_app(spec, settings))
    declared = {(e.method, e.template) for e in endpoints(CLIENT_CLASSES[spec.name])}
    assert served - declared == set(), f"routes of {spec.name} without an SDK method"
    assert declared - served == set(), f"SDK methods of {spec.name} calling routes that do not exist"


def test_the_gateway_routes_every_sdk_endpoint_of_every_service(settings: Settings) -> None:
    gateway = _routes(_app(next(s for s in SERVICES if s.name == "gateway"), settings))
    for name, client_class in CLIENT_CLASSES.items():
        for route in endpoints(client_class):
            assert (route.method, f"/api/{name}{route.template}") in gateway, f"gateway lacks {route} of {name}"
    proxied = {(m, p) for m, p in gateway if p.startswith("/api/")}
    expected = {(e.method, f"/api/{n}{e.template}") for n, c in CLIENT_CLASSES.items() for e in endpoints(c)}
    assert proxied == expected


def test_the_gateway_client_covers_the_gateways_own_routes(settings: Settings) -> None:
    gateway = _routes(_app(next(s for s in SERVICES if s.name == "gateway"), settings))
    own = {(m, p) for m, p in gateway if not p.startswith("/api/")} - GATEWAY_ONLY
    declared = {(e.method, e.template) for e in endpoints(GatewayClient)}
    assert own - declared == set(), "gateway routes without a GatewayClient method"
    assert declared - own == set(), "GatewayClient methods calling routes that do not exist"


def test_mlflow_client_calls_routes_mlflow_serves(mlflow_server: str) -> None:
    """MLflow publishes no OpenAPI: each declared GET is called and must not be 404 (a missing route)."""
    import httpx

    for route in endpoints(CLIENT_CLASSES["mlflow"]):
        response = httpx.request(
            route.method, f"{mlflow_server}{route.path}", json={} if route.method == "POST" else None
        )
        assert response.status_code != 404 or "RESOURCE_DOES_NOT_EXIST" in response.text, route
