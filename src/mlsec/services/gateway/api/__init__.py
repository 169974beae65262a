"""HTTP routes of the gateway, one module per concept; every service's API under `/api/<service>/...` is added
by the relay (`relay.py`), and `/ws` (`live.py`) only when live updates are on (`ENABLE_WEBSOCKET`)."""

from mlsec.services.gateway.api.auth import router as auth_router
from mlsec.services.gateway.api.dashboard import router as dashboard_router
from mlsec.services.gateway.api.events import router as events_router
from mlsec.services.gateway.api.platform import router as platform_router
from mlsec.services.gateway.api.predictions import router as predictions_router
from mlsec.services.gateway.api.session import router as session_router

routers = [auth_router, session_router, dashboard_router, events_router, platform_router, predictions_router]
"""Every HTTP router, in registration order."""
