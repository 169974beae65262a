"""The gateway's body limit: a chunked body over it is a 413 like a sized one, on its own routes and on the
routes it relays, and a caller's oversized uploads never open a service's circuit for everyone else."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from mlsec.core.services import SERVICES
from mlsec.core.settings import Settings
from mlsec.services.analytics.app import create_app as create_analytics
from mlsec.services.gateway.app import create_app as create_gateway
from mlsec.services.gateway.settings import GatewaySettings
from tests.api.analytics.conftest import analytics_settings
from tests.conftest import make_settings, started_client
from tests.servers import ThreadedServer, free_port

pytestmark = pytest.mark.anyio
LIMIT = 4096
MESSAGE = f"request body exceeds the limit of {LIMIT} bytes (setting MLSEC_MAX_REQUEST_BYTES)"


@pytest.fixture
def analytics_url(tmp_path: Path) -> Iterator[str]:
    server = ThreadedServer(create_analytics(make_settings(tmp_path / "analytics"), analytics_settings())).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
async def gateway(tmp_path: Path, analytics_url: str) -> AsyncIterator[httpx.AsyncClient]:
    # Every other service at a closed port: unreachable, never a service someone else runs on its default port.
    closed = {f"{spec.key}_url": f"http://127.0.0.1:{free_port()}" for spec in SERVICES if spec.name != "analytics"}
    settings: Settings = make_settings(
        tmp_path / "gateway",
        max_request_bytes=LIMIT,
        analytics_url=analytics_url,
        mlflow_tracking_uri=f"http://127.0.0.1:{free_port()}",
        http_retries=0,
        breaker_fail_max=2,
        **closed,
    )
    own = GatewaySettings(_env_file=None, auth_enabled=False)
    async for client in started_client(create_gateway(settings, own)):
        yield client


async def _chunked(size: int) -> AsyncIterator[bytes]:
    body = json.dumps({"text": "x" * size}).encode()
    for start in range(0, len(body), 1000):
        yield body[start : start + 1000]


def _assert_413(response: httpx.Response, path: str) -> None:
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 413, response.text
    body = response.json()
    assert (body["error"], body["path"], body["message"]) == (True, path, MESSAGE)


async def test_a_chunked_body_over_the_limit_is_413_on_a_gateway_route(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/predict", content=_chunked(2 * LIMIT), headers={"content-type": "application/json"})
    _assert_413(response, "/predict")
    sized = await gateway.post("/predict", json={"text": "x" * 2 * LIMIT})
    assert (sized.status_code, sized.json()["message"]) == (413, MESSAGE)


async def test_oversized_chunked_uploads_through_the_relay_are_413_and_leave_the_circuit_closed(
    gateway: httpx.AsyncClient, analytics_url: str
) -> None:
    path = "/api/analytics/feedback"
    for _ in range(4):  # twice the breaker's fail_max
        _assert_413(
            await gateway.post(path, content=_chunked(2 * LIMIT), headers={"content-type": "application/json"}), path
        )
    breakers = gateway._transport.app.state.ctx.breakers  # type: ignore[attr-defined]
    assert breakers.states()[analytics_url.removeprefix("http://")] == "closed"
    assert (await gateway.post(path, json={"items": []})).status_code == 422  # the service's own answer, relayed
