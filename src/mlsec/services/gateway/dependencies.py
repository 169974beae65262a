"""What the gateway's own routes take: the SDK, the gateway's settings, the traffic class to pass on, the prompt
anonymizer (when prompts are anonymized) and the running `/ws` manager."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, WebSocket

from mlsec.client import MainAPIClient
from mlsec.services.gateway.service.prompts import PromptAnonymizer
from mlsec.services.gateway.service.traffic import ForwardedTrafficDep
from mlsec.services.gateway.service.websocket.manager import STATE_ATTR, WebSocketManager
from mlsec.services.gateway.settings import GatewaySettings

__all__ = ["ForwardedTrafficDep", "GatewaySettingsDep", "PromptsDep", "SdkDep", "get_websocket_manager"]


async def get_sdk(request: Request) -> MainAPIClient:
    """The SDK built in the lifespan, on the gateway's pooled, resilient client (one breaker per service)."""
    sdk: MainAPIClient = request.app.state.sdk
    return sdk


async def get_gateway_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.gateway_settings
    return settings


async def get_prompts(request: Request) -> PromptAnonymizer | None:
    """The prompt anonymizer built in the lifespan when MLSEC_GATEWAY_ANONYMIZE_PROMPTS is on; None when off."""
    prompts: PromptAnonymizer | None = request.app.state.proxy.prompts
    return prompts


def get_websocket_manager(websocket: WebSocket) -> WebSocketManager | None:
    """The manager the app's lifespan keeps in `app.state.ws_manager` (None when it is not running)."""
    manager = getattr(websocket.app.state, STATE_ATTR, None)
    return manager if isinstance(manager, WebSocketManager) else None


SdkDep = Annotated[MainAPIClient, Depends(get_sdk)]
GatewaySettingsDep = Annotated[GatewaySettings, Depends(get_gateway_settings)]
PromptsDep = Annotated[PromptAnonymizer | None, Depends(get_prompts)]
