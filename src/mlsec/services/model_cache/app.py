"""Builds the model cache: the shared serving engine with a memory budget, LRU eviction and preloading."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mlsec.core.app import ServiceContext, create_service_app
from mlsec.core.services import get_spec
from mlsec.core.settings import Settings, load_settings
from mlsec.services.model_cache.api import routers
from mlsec.services.model_cache.models import Base, prediction_log
from mlsec.services.model_cache.schemas.config import CacheConfigBody
from mlsec.services.model_cache.service import config as configs
from mlsec.services.model_cache.service.events import EventRecorder
from mlsec.services.model_cache.settings import PREFIX, ModelCacheSettings
from mlsec.serving.lifespan import serving


def create_app(settings: Settings | None = None, model_cache_settings: ModelCacheSettings | None = None) -> FastAPI:
    """The model cache ASGI app for the given settings (the environment's when omitted)."""
    own = model_cache_settings or ModelCacheSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI, ctx: ServiceContext) -> AsyncIterator[None]:
        async with ctx.db.session() as session:
            row = await configs.get(session)
        config = CacheConfigBody.model_validate(row.config) if row else configs.config_from_settings(own)
        recorder = EventRecorder(ctx.db)
        try:
            async with serving(
                app,
                ctx,
                settings=own,
                policy=configs.policy_of(config),
                log_table=prediction_log,
                prefix=PREFIX,
                on_event=recorder,
            ):
                yield
        finally:
            await recorder.close()

    return create_service_app(
        get_spec("model-cache"),
        settings or load_settings(),
        metadata=Base.metadata,
        routers=routers,
        lifespan=lifespan,
    )
