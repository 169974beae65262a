"""Lanes: what a lane claims runs through the app's own middleware and exception handlers, never its router, and
answers as a route would (request id, metrics, span, error envelope); what it does not claim is the router's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mlsec.core.errors import TooManyRequestsError, install_error_handlers
from mlsec.core.lanes import ServiceApp, handled
from mlsec.core.metrics import ServiceMetrics
from mlsec.core.middleware import RequestContextMiddleware
from mlsec.core.settings import Settings
from mlsec.core.telemetry import FASTAPI_TELEMETRY_OFF, setup_telemetry

pytestmark = pytest.mark.anyio
TEMPLATE = "/lane/{name}"


class EchoLane:
    """Claims GET /lane/<name>; answers the name, refuses `limited` with a 429, fails on `broken`."""

    def __init__(self) -> None:
        self.route = Route(TEMPLATE, endpoint=lambda request: JSONResponse({}), methods=["GET"])
        self.scopes: list[Scope] = []

    def claims(self, scope: Scope) -> bool:
        if scope["method"] != "GET" or not scope["path"].startswith("/lane/"):
            return False
        scope.update(route=self.route, path_params={"name": scope["path"].removeprefix("/lane/")})
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        name = scope["path_params"]["name"]
        try:
            if name == "limited":
                raise TooManyRequestsError("slow down", headers={"Retry-After": "7"})
            if name == "broken":
                raise RuntimeError("a bug")
            response: Response = JSONResponse({"name": name})
        except Exception as exc:
            answer = await handled(exc, scope, receive)
            if answer is None:
                raise
            response = answer
        await response(scope, receive, send)


@pytest.fixture
def lane() -> EchoLane:
    return EchoLane()


@pytest.fixture
async def served(lane: EchoLane) -> AsyncIterator[tuple[ServiceApp, httpx.AsyncClient, InMemorySpanExporter]]:
    app = ServiceApp(telemetry=FASTAPI_TELEMETRY_OFF)
    install_error_handlers(app)

    @app.get(TEMPLATE)  # declared, as the gateway declares what its relay serves: the router's, if no lane took it
    async def documented(name: str) -> dict[str, str]:
        return {"name": name}

    app.state.metrics = ServiceMetrics("test")
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    provider = setup_telemetry(app, Settings(otel_exporter_otlp_endpoint=None), "test")
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app.add_lane(lane)
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield app, client, exporter


async def test_a_claimed_request_runs_the_apps_middleware_but_not_its_router(
    served: tuple[ServiceApp, httpx.AsyncClient, InMemorySpanExporter], lane: EchoLane
) -> None:
    app, client, exporter = served
    response = await client.get("/lane/ada", headers={"X-Request-ID": "req-1"})
    assert (response.status_code, response.json()) == (200, {"name": "ada"})
    assert response.headers["x-request-id"] == "req-1"
    assert "router" not in lane.scopes[0]  # Starlette's router never saw it
    assert (
        'mlsec_http_requests_total{method="GET",route="/lane/{name}",status="200"} 1.0'
        in app.state.metrics.render().decode()
    )
    (span,) = exporter.get_finished_spans()
    assert span.name == f"GET {TEMPLATE}"
    assert span.attributes is not None
    assert (span.attributes["http.route"], span.attributes["http.response.status_code"]) == (TEMPLATE, 200)


async def test_a_lanes_refusal_is_the_apps_error_envelope(
    served: tuple[ServiceApp, httpx.AsyncClient, InMemorySpanExporter],
) -> None:
    _, client, _ = served
    response = await client.get("/lane/limited", headers={"X-Request-ID": "req-2"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.headers["x-request-id"] == "req-2"
    body = response.json()
    assert (body["error"], body["message"], body["path"], body["request_id"]) == (
        True,
        "slow down",
        "/lane/limited",
        "req-2",
    )


async def test_an_unhandled_error_on_a_lane_is_the_generic_500(
    served: tuple[ServiceApp, httpx.AsyncClient, InMemorySpanExporter],
) -> None:
    _, client, exporter = served
    response = await client.get("/lane/broken")
    assert response.status_code == 500
    assert response.json()["details"] == {"error_type": "internal"}
    assert "a bug" not in response.text
    assert exporter.get_finished_spans()[0].attributes["error.type"] == "500"  # type: ignore[index]  # as on a route


async def test_what_no_lane_claims_goes_to_the_router(
    served: tuple[ServiceApp, httpx.AsyncClient, InMemorySpanExporter], lane: EchoLane
) -> None:
    _, client, _ = served
    wrong = await client.post("/lane/ada")  # another method: the router's answer
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "GET")
    missing = await client.get("/nowhere")
    assert (missing.status_code, missing.json()["error"]) == (404, True)
    assert lane.scopes == []


async def test_a_lane_cannot_be_added_once_the_app_serves(
    served: tuple[ServiceApp, httpx.AsyncClient, InMemorySpanExporter], lane: EchoLane
) -> None:
    app, client, _ = served
    await client.get("/lane/ada")
    with pytest.raises(RuntimeError, match="after the application has started"):
        app.add_lane(lane)
