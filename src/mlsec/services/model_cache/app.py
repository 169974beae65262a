"""Builds the model cache: the shared serving engine with a memory budget, LRU eviction and preloading."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mlsec.core.app import ServiceContext, create_service_app
from mlsec.core.services import get_spec
from mlsec.core.settings import Settings, load_settings
from mlsec.services.model_cache import service
from mlsec.services.model_cache.models import Base, prediction_log
from mlsec.services.model_cache.routes import router
from mlsec.services.model_cache.schemas import CacheConfigBody
from mlsec.services.model_cache.settings import PREFIX, ModelCacheSettings
from mlsec.serving.http_errors import install_serving_error_handlers
from mlsec.serving.http_routes import build_predict_router
from mlsec.serving.lifespan import serving


def create_app(settings: Settings | None = None, cache_settings: ModelCacheSettings | None = None) -> FastAPI:
    """The model cache ASGI app for the given settings (the environment's when omitted)."""
    own = cache_settings or ModelCacheSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI, ctx: ServiceContext) -> AsyncIterator[None]:
        async with ctx.db.session() as session:
            row = await service.get_config_row(session)
        config = CacheConfigBody.model_validate(row.config) if row else service.config_from_settings(own)
        recorder = service.EventRecorder(ctx.db)
        try:
            async with serving(
                app,
                ctx,
                settings=own,
                policy=service.policy_of(config),
                log_table=prediction_log,
                prefix=PREFIX,
                on_event=recorder,
            ):
                yield
        finally:
            await recorder.close()

    app = create_service_app(
        get_spec("model-cache"),
        settings or load_settings(),
        metadata=Base.metadata,
        routers=[build_predict_router(), router],
        lifespan=lifespan,
    )
    install_serving_error_handlers(app)
    return app
