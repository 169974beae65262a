"""Live updates for the gateway's lifetime: the /ws manager on the event hub, and the health monitor that
feeds its `health` topic (docs/websocket.md)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, WebSocket

from mlsec.client import MainAPIClient
from mlsec.core.app import ServiceContext
from mlsec.services.gateway.service import platform
from mlsec.services.gateway.service.health_monitor import HealthMonitor, health_check_from
from mlsec.services.gateway.service.security import authenticate_websocket
from mlsec.services.gateway.service.websocket.manager import STATE_ATTR, WebSocketManager
from mlsec.services.gateway.settings import GatewaySettings


async def _websocket_allowed(websocket: WebSocket) -> bool:
    """`/ws` admits whoever the security layer identifies (everyone when auth is off)."""
    return await authenticate_websocket(websocket) is not None


@asynccontextmanager
async def live_updates(
    app: FastAPI, ctx: ServiceContext, own: GatewaySettings, sdk: MainAPIClient
) -> AsyncIterator[None]:
    """Start the manager and the monitor; stop both when the gateway stops."""
    hub = ctx.hub
    if not own.enable_websocket or hub is None:
        yield
        return
    registry = app.state.metrics.registry

    async def report() -> dict[str, Any]:
        return (await platform.get_platform_health(sdk)).model_dump()

    monitor = HealthMonitor(health_check_from(report), ctx.publish, own.health_poll_seconds, registry=registry)

    async def status() -> dict[str, Any]:
        return {
            "service": ctx.spec.name,
            "version": ctx.settings.version,
            "services": monitor.current,
            "websocket": manager.stats(),
            "events": {"subscribers": hub.subscriber_count, "dropped": hub.dropped},
        }

    manager = WebSocketManager.from_settings(
        hub, own, status=status, authenticate=_websocket_allowed, registry=registry
    )
    manager.start()
    monitor.start()
    setattr(app.state, STATE_ATTR, manager)
    try:
        yield
    finally:
        await monitor.close()
        await manager.close()
