"""Builds the analytics app: drift, performance, red team, auto-retrain and promotion, with their monitor."""

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mlsec.client import MainAPIClient
from mlsec.core.app import ServiceContext, create_service_app
from mlsec.core.middleware import BodyLimit
from mlsec.core.services import get_spec
from mlsec.core.settings import Settings, load_settings
from mlsec.services.analytics.api import routers
from mlsec.services.analytics.models import Base
from mlsec.services.analytics.service import monitor, retrain
from mlsec.services.analytics.service.notify import Notifier
from mlsec.services.analytics.settings import AnalyticsSettings
from mlsec.services.analytics.state import Analytics


def create_app(settings: Settings | None = None, analytics_settings: AnalyticsSettings | None = None) -> FastAPI:
    """The analytics ASGI app for the given settings (the environment's when omitted)."""
    own = analytics_settings or AnalyticsSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI, ctx: ServiceContext) -> AsyncIterator[None]:
        sdk = MainAPIClient(ctx.settings, http=ctx.http, breakers=ctx.breakers)
        analytics = Analytics(ctx=ctx, settings=own, sdk=sdk, notifier=Notifier(ctx, own))
        app.state.analytics = analytics
        await retrain.recover(analytics)
        # Start-up tasks, retried until the services and MLflow they need answer (mlsec.core.startup).
        ctx.startup.run("retrain_queue", functools.partial(retrain.resume, analytics), state="waiting for training")
        if own.monitor_interval_seconds > 0:
            ctx.startup.run("monitor", functools.partial(monitor.run_once, analytics, strict=True), state="first check")
            analytics.spawn(monitor.run_schedule(analytics), "drift-monitor")
        try:
            yield
        finally:
            await analytics.close()

    limits = {
        "/drift/detect/upload": BodyLimit(2 * own.max_upload_bytes + 64 * 1024, "MLSEC_ANALYTICS_MAX_UPLOAD_BYTES")
    }
    return create_service_app(
        get_spec("analytics"),
        settings or load_settings(),
        metadata=Base.metadata,
        routers=routers,
        lifespan=lifespan,
        body_limits=limits,
    )
