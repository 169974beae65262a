"""A version registered or an alias moved reaches the control tower at once through the platform's events: the
model named in the event is re-read alone, through the gateway's /ws in embedded mode or Redis when distributed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from mlflow import MlflowClient
from pydantic import SecretStr

from mlsec.core.cache import create_redis
from mlsec.core.events import Event, HttpEventSink, RedisEventSink
from mlsec.services.control_tower.app import create_app
from mlsec.services.control_tower.state import ControlTower
from mlsec.services.gateway.app import create_app as create_gateway
from tests.api.control_tower.conftest import Registry, add_version, platform_settings, tower_settings, unique
from tests.conftest import started_client, wait_started
from tests.servers import ThreadedServer, free_port

pytestmark = pytest.mark.anyio

TOKEN = "e" * 40


def _register(registry: Registry) -> str:
    client = MlflowClient(registry.url, registry_uri=registry.url)
    name = unique("evented")
    client.create_registered_model(name)
    add_version(client, client.create_experiment(name), name, {"accuracy": 0.8})
    client.set_registered_model_alias(name, "champion", "1")
    return name


async def _subscribed(state: ControlTower, within: float = 10.0) -> None:
    """Until the control tower's subscription to the event stream is connected."""
    assert state.subscription is not None
    deadline = asyncio.get_running_loop().time() + within
    while not state.subscription.connected:
        assert asyncio.get_running_loop().time() < deadline, "the event subscription did not connect"
        await asyncio.sleep(0.1)


async def _listed(tower: httpx.AsyncClient, name: str, within: float = 10.0) -> list[dict[str, object]]:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        production = [m for m in (await tower.get("/models")).json() if m["name"] == name]
        if production or asyncio.get_running_loop().time() > deadline:
            return production
        await asyncio.sleep(0.1)


async def test_an_event_refreshes_the_model_it_names_and_nothing_else(home: Path, registry: Registry) -> None:
    app = create_app(platform_settings(home, registry.url), tower_settings())
    async for tower in started_client(app):
        await wait_started(tower)
        state: ControlTower = app.state.control_tower
        taken = (await tower.get("/dashboard/summary")).json()["last_updated"]
        name = _register(registry)
        await state.on_event(
            Event(topic="training", type="job.progress", source="training", payload={"model_name": name})
        )
        await state.on_event(
            Event(topic="training", type="job.result", source="training", payload={"model_name": name})
        )
        production = await _listed(tower, name)
        assert [(m["version"], m["stage"], m["metrics"]) for m in production] == [
            ("1", "Production", {"accuracy": 0.8})
        ]
        stats = (await tower.get("/cache/info")).json()["cache_info"]
        assert stats["event_refreshes"] == 1  # the progress event refreshed nothing
        assert stats["event_stream"] == "off"  # this app was built without the subscription
        assert (await tower.get("/dashboard/summary")).json()["last_updated"] == taken  # no full refresh


async def test_events_arrive_through_the_gateway(home: Path, tmp_path: Path, registry: Registry) -> None:
    gateway_port = free_port()
    common = {"service_token": SecretStr(TOKEN), "gateway_port": gateway_port}
    gateway_settings = platform_settings(tmp_path / "gateway-home", registry.url, **common)
    with ThreadedServer(create_gateway(gateway_settings), port=gateway_port):
        settings = platform_settings(home, registry.url, **common)
        app = create_app(settings, tower_settings(event_refresh=True))
        async for tower in started_client(app):
            tower.headers["X-Mlsec-Service-Token"] = TOKEN  # required on every route once a token is set
            await wait_started(tower)
            await _subscribed(app.state.control_tower)
            name = _register(registry)
            async with httpx.AsyncClient() as client:
                sink = HttpEventSink(client, f"http://127.0.0.1:{gateway_port}", service_token=TOKEN)
                await sink.deliver(
                    Event(
                        topic="promotions", type="promotion.promoted", source="analytics", payload={"model_name": name}
                    )
                )
            assert await _listed(tower, name), "the event did not refresh the model"
            stats = (await tower.get("/cache/info")).json()["cache_info"]
            assert (stats["event_refreshes"], stats["event_stream"]) == (1, "connected")


async def test_events_arrive_through_redis(home: Path, registry: Registry, redis_server_url: str) -> None:
    settings = platform_settings(home, registry.url, redis_url=SecretStr(redis_server_url), events_backend="redis")
    app = create_app(settings, tower_settings(event_refresh=True))
    async for tower in started_client(app):
        await wait_started(tower)
        await _subscribed(app.state.control_tower)
        name = _register(registry)
        sink = RedisEventSink(create_redis(redis_server_url))
        try:
            await sink.deliver(
                Event(topic="training", type="job.result", source="training", payload={"model_name": name})
            )
        finally:
            await sink.close()
        assert await _listed(tower, name), "the event did not refresh the model"
