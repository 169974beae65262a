"""The SDK's platform calls (seed 000's names) are thin calls of the gateway's routes: the gateway does the
fallback, the voting and the aggregation, and the SDK asks no service itself."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlsec.client import MainAPIClient
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio
GATEWAY = "http://gateway.test:8007"
HEALTH = {"status": "degraded", "services": {"model-api": {"service": "model-api", "status": "healthy"}}}


class Recorder:
    """Every request the SDK sends, answered with a JSON body per path."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/health":
            return httpx.Response(200, json=HEALTH)
        return httpx.Response(200, json={"path": request.url.path})


async def _with_sdk(tmp_path: Path, work: Callable[[MainAPIClient], Awaitable[Any]]) -> tuple[Any, Recorder]:
    recorder = Recorder()
    settings = make_settings(tmp_path, gateway_url=GATEWAY)
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as http:
        result = await work(MainAPIClient(settings, http=http))
    return result, recorder


@pytest.mark.parametrize(
    ("call", "method", "path", "params"),
    [
        (lambda sdk: sdk.get_all_services_health(), "GET", "/health", {}),
        (lambda sdk: sdk.get_dashboard_overview(), "GET", "/dashboard/overview", {}),
        (lambda sdk: sdk.get_all_metrics(), "GET", "/metrics", {"format": "json"}),
        (lambda sdk: sdk.get_model_management_overview(), "GET", "/models/overview", {}),
        (lambda sdk: sdk.get_security_overview(), "GET", "/security/overview", {}),
    ],
)
async def test_every_view_is_one_call_of_the_gateway(
    tmp_path: Path, call: Callable[[MainAPIClient], Awaitable[Any]], method: str, path: str, params: dict[str, str]
) -> None:
    _, recorder = await _with_sdk(tmp_path, call)
    [request] = recorder.requests
    assert (request.method, str(request.url.copy_with(query=None)), dict(request.url.params)) == (
        method,
        f"{GATEWAY}{path}",
        params,
    )


async def test_one_services_health_is_its_entry_of_the_platforms(tmp_path: Path) -> None:
    entry, recorder = await _with_sdk(tmp_path, lambda sdk: sdk.get_service_health("model_api"))
    assert entry == {"service": "model-api", "status": "healthy"}
    assert [r.url.path for r in recorder.requests] == ["/health"]


async def test_unified_predictions_post_to_the_gateway_with_the_traffic_class(tmp_path: Path) -> None:
    async def work(sdk: MainAPIClient) -> None:
        await sdk.predict_unified("hello", "detector", False, version="2", traffic_class="redteam")
        await sdk.predict_batch_unified(["a", "b"], True, model_names=("m1", "m2"))

    _, recorder = await _with_sdk(tmp_path, work)
    single, batch = recorder.requests
    assert (single.method, str(single.url)) == ("POST", f"{GATEWAY}/predict")
    assert json.loads(single.content) == {"text": "hello", "use_cache": False, "model_name": "detector", "version": "2"}
    assert single.headers["x-mlsec-traffic-class"] == "redteam"
    assert (batch.method, str(batch.url)) == ("POST", f"{GATEWAY}/predict/batch")
    assert json.loads(batch.content) == {
        "texts": ["a", "b"],
        "ensemble": True,
        "use_cache": True,
        "model_names": ["m1", "m2"],
    }
    assert "x-mlsec-traffic-class" not in batch.headers
