"""Builds the control-tower app: seed 004's routes on a persisted registry snapshot kept fresh in the background."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from mlsec.client import MainAPIClient
from mlsec.client.mlflow import MLflowClient
from mlsec.core.app import ServiceContext, create_service_app
from mlsec.core.http import BreakerRegistry, create_http_client
from mlsec.core.services import get_spec
from mlsec.core.settings import ConfigurationError, Settings, load_settings
from mlsec.core.subscription import EventSubscription
from mlsec.services.control_tower.api import routers
from mlsec.services.control_tower.api.debug import router as debug_router
from mlsec.services.control_tower.models import Base
from mlsec.services.control_tower.service import monitoring
from mlsec.services.control_tower.service.cache import RegistryCache
from mlsec.services.control_tower.service.reader import RegistryReader
from mlsec.services.control_tower.settings import MOCK_DATA_REFUSED, ControlTowerSettings
from mlsec.services.control_tower.state import TOPICS, ControlTower

MLFLOW_BREAKER_RESET_SECONDS = 5.0


def _mlflow_client(ctx: ServiceContext, own: ControlTowerSettings) -> tuple[MLflowClient, httpx.AsyncClient]:
    """MLflow's REST API through the resilient transport, with the seed's basic-auth credentials when set.

    Its circuit breaker is its own, with a short reset: the snapshot is read a few times an hour, so a breaker
    that opened while MLflow was starting must not hold the first read back for the platform-wide 30 s."""
    settings = ctx.settings
    reset = min(settings.breaker_reset_timeout, MLFLOW_BREAKER_RESET_SECONDS)
    breakers = BreakerRegistry(fail_max=settings.breaker_fail_max, reset_timeout=reset)
    http = create_http_client(settings, breakers=breakers)
    if own.mlflow_username is not None:
        password = own.mlflow_password.get_secret_value() if own.mlflow_password else ""
        http.auth = httpx.BasicAuth(own.mlflow_username, password)
    return MLflowClient("mlflow", ctx.settings.mlflow_uri, http, ctx.settings), http


def create_app(settings: Settings | None = None, control_tower_settings: ControlTowerSettings | None = None) -> FastAPI:
    """The control-tower ASGI app for the given settings (the environment's when omitted)."""
    own = control_tower_settings or ControlTowerSettings()
    if own.enable_mock_data:
        raise ConfigurationError(MOCK_DATA_REFUSED)
    platform = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI, ctx: ServiceContext) -> AsyncIterator[None]:
        mlflow, mlflow_http = _mlflow_client(ctx, own)
        reader = RegistryReader(
            mlflow, tracking_uri=ctx.settings.mlflow_uri, runs_kept_per_experiment=own.runs_kept_per_experiment
        )
        persist = own.enable_cache and own.enable_cache_persistence
        cache = RegistryCache(reader, own, path=own.cache_file(ctx.settings.home) if persist else None)
        tower = ControlTower(
            ctx=ctx,
            settings=own,
            sdk=MainAPIClient(ctx.settings, http=ctx.http, breakers=ctx.breakers),
            reader=reader,
            cache=cache,
            mlflow_http=mlflow_http,
        )
        cache.on_change = tower.rebuild
        async with ctx.db.session() as session:
            tower.monitored_types = await monitoring.get_types(session)
        app.state.control_tower = tower
        if own.enable_cache:
            cache.load_file()  # answers at once, marked stale until MLflow confirms them
            ctx.startup.run("registry", cache.refresh, state="reading MLflow")
            cache.start()
            if own.event_refresh:
                tower.subscription = EventSubscription(ctx.settings, TOPICS, tower.on_event, name="control-tower")
                tower.subscription.start()
        try:
            yield
        finally:
            await tower.close()

    chosen = [r for r in routers if own.enable_debug_endpoints or r is not debug_router]
    return create_service_app(
        get_spec("control-tower"),
        platform,
        metadata=Base.metadata,
        routers=chosen,
        lifespan=lifespan,
        replace_common={"/health"},
    )
