"""The `/ws` route: live events by topic, served by the running manager (service/websocket/)."""

from collections.abc import Callable

from fastapi import APIRouter, WebSocket

from mlsec.services.gateway.dependencies import get_websocket_manager
from mlsec.services.gateway.service.websocket.connection import refuse
from mlsec.services.gateway.service.websocket.manager import WebSocketManager
from mlsec.services.gateway.service.websocket.protocol import TRY_AGAIN_LATER

ManagerGetter = Callable[[WebSocket], WebSocketManager | None]


def build_websocket_router(manager_getter: ManagerGetter = get_websocket_manager, *, path: str = "/ws") -> APIRouter:
    """The `/ws` route, served by whatever manager `manager_getter` finds for the connection."""
    router = APIRouter(tags=["live updates"])

    @router.websocket(path)
    async def live_updates(websocket: WebSocket) -> None:
        """Live events by topic; see docs/websocket.md for the protocol."""
        manager = manager_getter(websocket)
        if manager is None:
            await refuse(websocket, TRY_AGAIN_LATER, "live updates are not running")
            return
        await manager.serve(websocket)

    return router


router = build_websocket_router()
