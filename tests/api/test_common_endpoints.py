"""Every service answers the common endpoints, with its own migrated database, on every backend."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator

import httpx
import pytest

from mlsec.core.auth import credentials_path, read_credentials
from mlsec.core.migrations import current_revision, head_revision
from mlsec.core.services import SERVICES, ServiceSpec
from mlsec.core.settings import Settings
from tests.conftest import started_client

pytestmark = pytest.mark.anyio


@pytest.fixture(params=SERVICES, ids=[spec.name for spec in SERVICES])
def spec(request: pytest.FixtureRequest) -> ServiceSpec:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def client(spec: ServiceSpec, backend_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = importlib.import_module(spec.app_module).create_app(backend_settings)
    async for http in started_client(app):
        if spec.name == "gateway":  # the gateway wants a key: the admin key it created at start-up
            http.headers["Authorization"] = f"Bearer {read_credentials(credentials_path(backend_settings))}"
        yield http


async def test_health_names_the_service(client: httpx.AsyncClient, spec: ServiceSpec) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    if spec.name == "gateway":  # the platform's health: every service (none runs here) and the gateway's own
        assert body["total"] == len(body["services"]) == len(SERVICES)  # the other services and MLflow
        assert body["healthy"] == 0 and body["overall_score"] == 0.0
        body = body["gateway"]
        assert body["status"] == "healthy" and body["service"] == spec.name
        return
    assert body["status"] == "healthy"
    assert body["service"] == spec.name
    assert body["uptime_seconds"] >= 0


async def test_liveness_and_readiness(client: httpx.AsyncClient, backend_settings: Settings) -> None:
    assert (await client.get("/health/live")).json()["status"] == "alive"
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    assert checks["database"]["status"] == "up"
    if backend_settings.redis_dsn:
        assert checks["redis"]["status"] == "up"


async def test_deep_health_names_each_dependency_that_is_down(client: httpx.AsyncClient, spec: ServiceSpec) -> None:
    # Nothing but this service runs here: MLflow and peer services must be reported down, by name.
    response = await client.get("/health/deep")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"]["status"] == "up"
    expected_down = (["mlflow"] if spec.uses_mlflow else []) + list(spec.depends_on)
    assert sorted(body["down"]) == sorted(expected_down)
    assert body["status"] == ("degraded" if expected_down else "healthy")
    for name in expected_down:
        assert body["checks"][name]["error"]


async def test_database_is_migrated_to_head(
    spec: ServiceSpec, backend_settings: Settings, client: httpx.AsyncClient
) -> None:
    from mlsec.core.database import Database

    db = Database(backend_settings.database_url_for(spec))
    try:
        assert await current_revision(db) == head_revision(spec.key)
    finally:
        await db.dispose()


async def test_metrics_count_requests_per_route(client: httpx.AsyncClient, spec: ServiceSpec) -> None:
    await client.get("/health")
    await client.get("/health")
    await client.get("/no/such/route")
    text = (await client.get("/metrics")).text
    assert 'mlsec_http_requests_total{method="GET",route="/health",status="200"} 2.0' in text
    assert 'mlsec_http_errors_total{method="GET",route="<unmatched>",status="404"} 1.0' in text
    assert 'mlsec_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/health"}' in text
    assert f'mlsec_service_info{{service="{spec.name}",version="0.1.0"}} 1.0' in text


async def test_unknown_route_and_wrong_method_answer_the_envelope(client: httpx.AsyncClient) -> None:
    missing = await client.get("/no/such/route")
    assert missing.status_code == 404
    body = missing.json()
    assert body["error"] is True
    assert body["status_code"] == 404
    assert body["path"] == "/no/such/route"
    assert body["request_id"] == missing.headers["x-request-id"]
    assert {"message", "timestamp", "details"} <= body.keys()

    wrong = await client.post("/health")
    assert wrong.status_code == 405
    assert wrong.json()["message"] == "method POST not allowed on /health"


@pytest.mark.parametrize("path", ["/health/live/", "/metrics/"])
async def test_a_trailing_slash_never_redirects_to_the_host_header(client: httpx.AsyncClient, path: str) -> None:
    """Starlette's slash redirect builds Location from Host: a 404 instead (see create_service_app)."""
    response = await client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 404
    assert "location" not in response.headers
    assert response.json()["path"] == path


async def test_request_id_is_kept_or_made(client: httpx.AsyncClient) -> None:
    kept = await client.get("/health", headers={"x-request-id": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    hostile = await client.get("/health", headers={"x-request-id": "bad id\nwith newline"})
    assert hostile.headers["x-request-id"] != "bad id\nwith newline"
    assert len(hostile.headers["x-request-id"]) == 32


async def test_openapi_lists_the_common_endpoints(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/health", "/health/live", "/health/ready", "/health/deep", "/metrics"} <= paths.keys()
