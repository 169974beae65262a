"""Builds the gateway app: the event hub, every service's API under /api/<service>/..., the aggregated views."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from mlsec.client import MainAPIClient
from mlsec.core.app import ServiceContext, create_service_app
from mlsec.core.cache import create_redis
from mlsec.core.events import EventHub, relay_redis_events
from mlsec.core.middleware import BodyLimit
from mlsec.core.openapi import declare_errors
from mlsec.core.services import get_spec
from mlsec.core.settings import Settings, load_settings
from mlsec.dashboard import STATIC_DIR
from mlsec.services.gateway.api import routers
from mlsec.services.gateway.api.live import router as live_router
from mlsec.services.gateway.api.relay import add_proxy_routes
from mlsec.services.gateway.models import Base
from mlsec.services.gateway.service.live import live_updates
from mlsec.services.gateway.service.prompts import PromptAnonymizer
from mlsec.services.gateway.service.proxy import GatewayProxy, ProxyMetrics
from mlsec.services.gateway.service.security import admit, authorize, guard_errors, install_cors, security_lifespan
from mlsec.services.gateway.service.security.announce import AdminActions
from mlsec.services.gateway.settings import GatewaySettings

# Common routes the gateway answers itself with the platform-wide view (see api/platform.py).
_REPLACED_COMMON_ROUTES = frozenset({"/health", "/metrics"})
_UPLOAD_ROUTES = ("/api/training/data/upload-data", "/api/training/data/efficient/upload-large-file")


@asynccontextmanager
async def _relay_events(ctx: ServiceContext) -> AsyncIterator[None]:
    """In distributed mode, feed the events every service publishes on Redis into this replica's hub."""
    dsn = ctx.settings.redis_dsn
    if not ctx.settings.uses_redis_events or dsn is None or ctx.hub is None:
        yield
        return
    redis = create_redis(dsn, blocking_reads=True)
    task = asyncio.create_task(relay_redis_events(redis, ctx.hub), name="gateway-event-relay")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await redis.aclose()


def create_app(settings: Settings | None = None, gateway_settings: GatewaySettings | None = None) -> FastAPI:
    """The gateway ASGI app for the given settings (the environment's when omitted)."""
    own = gateway_settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI, ctx: ServiceContext) -> AsyncIterator[None]:
        async with security_lifespan(app, ctx, own), _relay_events(ctx):
            # The SDK shares the service's pooled, resilient client: one breaker per service host.
            sdk = MainAPIClient(ctx.settings, http=ctx.http, breakers=ctx.breakers)
            app.state.sdk = sdk
            prompts = PromptAnonymizer() if own.anonymize_prompts else None
            app.state.proxy = GatewayProxy(
                sdk, ctx.cache, proxy_metrics, stale_seconds=own.stale_seconds, prompts=prompts
            )
            async with live_updates(app, ctx, own, sdk):
                yield

    live_routers = [live_router] if own.enable_websocket else []
    upload_limit = BodyLimit(own.max_upload_bytes, "MLSEC_GATEWAY_MAX_UPLOAD_BYTES")
    app = create_service_app(
        get_spec("gateway"),
        settings or load_settings(),
        metadata=Base.metadata,
        routers=[*routers, *live_routers],
        lifespan=lifespan,
        hub=EventHub(),
        body_limits=dict.fromkeys(_UPLOAD_ROUTES, upload_limit),
        replace_common=_REPLACED_COMMON_ROUTES,
        dependencies=[Depends(authorize)],  # every route, added now or later: see service/security/policy.py
    )
    add_proxy_routes(app, admit)  # the forwarded routes, and the relay's lane in front of them (api/relay.py)
    if own.auth_enabled:
        declare_errors(app, guard_errors)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")  # the dashboard's files (public)
    app.add_middleware(AdminActions)  # every admin write, once it succeeded, to the audit log (announce.py)
    install_cors(app, own)
    app.state.gateway_settings = own
    proxy_metrics = ProxyMetrics(app.state.metrics.registry)
    return app
