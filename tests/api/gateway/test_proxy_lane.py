"""The relay's lane, as a caller sees it: forwarded calls are served past Starlette's router, and every answer is
the one the gateway always gave: the error envelope on 401/403/404/405/413/429/503 with the request id echoed,
the caller, traffic class and trace context passed on, the request counted in the gateway's metrics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from starlette.types import Scope

from mlsec.core.auth import Role
from mlsec.core.settings import Settings
from mlsec.services.gateway.api.relay import RelayRoute
from tests.api.gateway.security_support import Gateway, gateway_settings, running_gateway
from tests.servers import ThreadedServer

pytestmark = pytest.mark.anyio
PREDICT = "/api/model-api/predict"
LIMIT_BYTES = 4096


def _model_api() -> FastAPI:
    """A stand-in model API that answers with the headers the gateway sent it."""
    app = FastAPI()

    @app.post("/predict")
    async def predict(request: Request) -> dict[str, Any]:
        names = ("x-mlsec-caller", "x-mlsec-traffic-class", "x-request-id", "traceparent", "authorization")
        return {"label": 1, "seen": {name: request.headers.get(name) for name in names}}

    return app


@pytest.fixture(scope="module")
def model_api() -> Iterator[ThreadedServer]:
    server = ThreadedServer(_model_api()).start()
    yield server
    server.stop()


def _spy_on_the_relay(gateway: Gateway) -> list[Scope]:
    """The scopes the relay's guard sees: a request served on the lane never passed Starlette's router."""
    relay = gateway.app.router.routes[0]
    assert isinstance(relay, RelayRoute)
    seen: list[Scope] = []
    guard = relay.guard

    async def spying(scope: Scope) -> Any:
        seen.append(scope)
        return await guard(scope)

    relay.guard = spying
    return seen


def _enveloped(response: Any, status: int, request_id: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["x-request-id"] == request_id
    body: dict[str, Any] = response.json()
    assert (body["error"], body["status_code"], body["request_id"]) == (True, status, request_id)
    return body


async def test_refusals_on_the_relay_are_the_gateway_envelope(settings: Settings, model_api: ThreadedServer) -> None:
    own = gateway_settings(rate_limit_operator="2/hour")
    async with running_gateway(settings, own, model_api_url=model_api.url, max_request_bytes=LIMIT_BYTES) as gateway:
        seen = _spy_on_the_relay(gateway)
        viewer, operator = await gateway.new_key(Role.VIEWER), await gateway.new_key(Role.OPERATOR)
        http = gateway.http
        anonymous = await http.post(PREDICT, json={"text": "x"}, headers={"X-Request-ID": "r-401"})
        assert _enveloped(anonymous, 401, "r-401")["path"] == PREDICT
        assert anonymous.headers["www-authenticate"] == "Bearer"
        low = await http.post(PREDICT, json={"text": "x"}, headers={**gateway.as_key(viewer), "X-Request-ID": "r-403"})
        assert _enveloped(low, 403, "r-403")["details"] == {"role": "viewer", "required_role": "operator"}
        missing = await http.get("/api/model-api/no-such-route", headers={"X-Request-ID": "r-404"})
        assert _enveloped(missing, 404, "r-404")["message"] == "no route for GET /api/model-api/no-such-route"
        wrong = await http.delete(PREDICT, headers={"X-Request-ID": "r-405"})
        _enveloped(wrong, 405, "r-405")
        assert wrong.headers["allow"] == "POST"
        big = await http.post(
            PREDICT, json={"text": "x" * LIMIT_BYTES}, headers={**gateway.as_key(operator), "X-Request-ID": "r-413"}
        )
        assert _enveloped(big, 413, "r-413")["details"] == {"limit_bytes": LIMIT_BYTES}
        for _ in range(2):
            assert (await http.post(PREDICT, json={"text": "x"}, headers=gateway.as_key(operator))).status_code == 200
        limited = await http.post(
            PREDICT, json={"text": "x"}, headers={**gateway.as_key(operator), "X-Request-ID": "r-429"}
        )
        body = _enveloped(limited, 429, "r-429")
        assert limited.headers["retry-after"] == str(body["details"]["retry_after_seconds"])
        down = await http.get(
            "/api/model-cache/stats", headers={**gateway.as_key(gateway.admin_key), "X-Request-ID": "r-503"}
        )
        assert _enveloped(down, 503, "r-503")["details"] == {"service": "model-cache", "error_type": "unreachable"}
        assert seen, "the relay's guard never ran"
        assert all("router" not in scope for scope in seen)  # served on the lane, not through Starlette's router


async def test_the_relay_passes_on_the_caller_and_the_context(settings: Settings, model_api: ThreadedServer) -> None:
    async with running_gateway(settings, model_api_url=model_api.url) as gateway:
        operator = await gateway.new_key(Role.OPERATOR, name="ops")
        headers = {**gateway.as_key(operator), "X-Request-ID": "r-ctx", "X-Mlsec-Traffic-Class": "redteam"}
        answer = await gateway.http.post(PREDICT, json={"text": "x"}, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-request-id"] == "r-ctx"
        seen = answer.json()["seen"]
        assert seen["x-mlsec-caller"].startswith("api_key:")
        assert (seen["x-mlsec-traffic-class"], seen["x-request-id"], seen["authorization"]) == (
            "redteam",
            "r-ctx",
            None,
        )
        assert seen["traceparent"].startswith("00-")
        bad = await gateway.http.post(PREDICT, json={"text": "x"}, headers={**headers, "X-Mlsec-Traffic-Class": "nope"})
        assert bad.status_code == 400 and bad.json()["error"] is True
        metrics = gateway.app.state.metrics.render().decode()
        assert f'mlsec_http_requests_total{{method="POST",route="{PREDICT}",status="200"}} 1.0' in metrics
        assert f'mlsec_http_requests_total{{method="POST",route="{PREDICT}",status="400"}} 1.0' in metrics
        assert 'mlsec_gateway_upstream_requests_total{outcome="2xx",service="model-api"} 1.0' in metrics
