"""Builds the model API: predictions on the shared serving engine, models loaded on demand."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mlsec.core.app import ServiceContext, create_service_app
from mlsec.core.services import get_spec
from mlsec.core.settings import Settings, load_settings
from mlsec.services.model_api.models import Base, prediction_log
from mlsec.services.model_api.protocols import invocations, v2
from mlsec.services.model_api.routes import router
from mlsec.services.model_api.settings import PREFIX, ModelApiSettings
from mlsec.serving.http_errors import install_serving_error_handlers
from mlsec.serving.http_routes import build_predict_router
from mlsec.serving.lifespan import serving
from mlsec.serving.repository import ServingPolicy


def create_app(settings: Settings | None = None, serving_settings: ModelApiSettings | None = None) -> FastAPI:
    """The model API ASGI app for the given settings (the environment's when omitted)."""
    own = serving_settings or ModelApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI, ctx: ServiceContext) -> AsyncIterator[None]:
        async with serving(app, ctx, settings=own, policy=ServingPolicy(), log_table=prediction_log, prefix=PREFIX):
            yield

    app = create_service_app(
        get_spec("model-api"),
        settings or load_settings(),
        metadata=Base.metadata,
        routers=[build_predict_router(), router, v2, invocations],
        lifespan=lifespan,
    )
    install_serving_error_handlers(app)
    return app
