"""Builds the gateway app: common endpoints, the event hub and its routes."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mlsec.core.app import ServiceContext, create_service_app
from mlsec.core.cache import create_redis
from mlsec.core.events import EventHub, relay_redis_events
from mlsec.core.services import get_spec
from mlsec.core.settings import Settings, load_settings
from mlsec.services.gateway.routes import router


@asynccontextmanager
async def _relay_events(_app: FastAPI, ctx: ServiceContext) -> AsyncIterator[None]:
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


def create_app(settings: Settings | None = None) -> FastAPI:
    """The gateway ASGI app for the given settings (the environment's when omitted)."""
    return create_service_app(
        get_spec("gateway"), settings or load_settings(), routers=[router], lifespan=_relay_events, hub=EventHub()
    )
