"""WebSocket routes of the gateway are guarded like the others: refused during the handshake without a
valid credential, and the handler learns who connected through `authenticate_websocket`.

The gateway runs under a real uvicorn server (a thread); the client is the `websockets` library.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi import WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

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


async def test_a_session_cookie_opens_a_websocket_only_from_the_dashboards_own_origin(tmp_path: Path) -> None:
    """A cookie is sent by the browser on its own, so a page of another site could open a socket with it:
    the handshake must come from the gateway's own origin."""
    settings = make_settings(tmp_path / "home")
    app = create_app(isolated(settings), gateway_settings())
    app.add_api_websocket_route("/test-ws", _whoami)
    with ThreadedServer(app) as server:
        key = read_credentials(credentials_path(settings))
        async with httpx.AsyncClient() as http:
            signed_in = await http.post(f"{server.url}/auth/session", json={"api_key": key})
        assert signed_in.status_code == 200
        cookie = f"mlsec_session={signed_in.cookies['mlsec_session']}"
        url = server.url.replace("http://", "ws://") + "/test-ws"
        host = server.url.removeprefix("http://")
        async with connect(url, additional_headers={"Cookie": cookie}, origin=Origin(f"http://{host}")) as ws:
            assert json.loads(await ws.recv()) == {"role": "admin"}
        for origin in (Origin("http://evil.example"), None):
            with pytest.raises(InvalidStatus) as refused:
                async with connect(url, additional_headers={"Cookie": cookie}, origin=origin):
                    pass
            assert refused.value.response.status_code == 403
