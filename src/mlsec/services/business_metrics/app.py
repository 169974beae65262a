"""Builds the business-metrics app: the rollup store, the collector that fills it on a schedule, and the routers
that read it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from mlsec.client import MainAPIClient
from mlsec.core.app import ServiceContext, create_service_app
from mlsec.core.background import Periodic
from mlsec.core.services import get_spec
from mlsec.core.settings import Settings, load_settings
from mlsec.services.business_metrics.api import routers
from mlsec.services.business_metrics.models import Base
from mlsec.services.business_metrics.service import collect, schedule, slas
from mlsec.services.business_metrics.settings import BusinessMetricsSettings
from mlsec.services.business_metrics.state import BusinessMetrics


def create_app(
    settings: Settings | None = None, business_metrics_settings: BusinessMetricsSettings | None = None
) -> FastAPI:
    """The business-metrics ASGI app for the given settings (the environment's when omitted)."""
    own = business_metrics_settings or BusinessMetricsSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI, ctx: ServiceContext) -> AsyncIterator[None]:
        sdk = MainAPIClient(ctx.settings, http=ctx.http, breakers=ctx.breakers)
        business = BusinessMetrics(ctx=ctx, settings=own, sdk=sdk)
        business.collector = Periodic(
            "business-metrics-collect",
            partial(collect.run_round, business),
            interval=own.collect_interval_s,
            first_at_once=True,
        )
        business.after_collect.extend([slas.check_after_collect, schedule.report_after_collect])
        app.state.business = business
        if own.collect_enabled:
            business.collector.start()
        try:
            yield
        finally:
            await business.close()

    return create_service_app(
        get_spec("business-metrics"),
        settings or load_settings(),
        metadata=Base.metadata,
        routers=routers,
        lifespan=lifespan,
        replace_common=("/metrics",),  # api/metrics.py answers it: Prometheus text, or the KPIs as JSON
    )
