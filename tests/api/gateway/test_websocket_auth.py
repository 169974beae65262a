"""WebSocket routes of the gateway are guarded like the others: refused during the handshake without a
valid credential, and the handler learns who connected through `authenticate_websocket`.

The gateway runs under a real uvicorn server (a thread); the client is the `websockets` library.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from mlsec.core.auth import credentials_path, read_credentials
from mlsec.services.gateway.app import create_app
from mlsec.services.gateway.service.security import authenticate_websocket
from tests.api.gateway.security_support import gateway_settings, isolated
from tests.conftest import make_settings
from tests.servers import ThreadedServer

pytestmark = pytest.mark.anyio


async def _whoami(websocket: WebSocket) -> None:
    principal = await authenticate_websocket(websocket)
    await websocket.accept()
    await websocket.send_text(json.dumps({"role": None if principal is None else str(principal.role)}))
    await websocket.close()


async def test_a_websocket_needs_a_credential(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    app = create_app(isolated(settings), gateway_settings())
    app.add_api_websocket_route("/test-ws", _whoami)  # a route added after the app was built
    with ThreadedServer(app) as server:
        url = server.url.replace("http://", "ws://") + "/test-ws"
        key = read_credentials(credentials_path(settings))
        for anonymous in (url, f"{url}?token=mlsec_bad", f"{url}?token=not.a.jwt"):
            with pytest.raises(InvalidStatus) as refused:
                async with connect(anonymous):
                    pass
            assert refused.value.response.status_code == 403
        async with connect(f"{url}?token={key}") as ws:
            assert json.loads(await ws.recv()) == {"role": "admin"}
        async with connect(url, additional_headers={"Authorization": f"Bearer {key}"}) as ws:
            assert json.loads(await ws.recv()) == {"role": "admin"}
