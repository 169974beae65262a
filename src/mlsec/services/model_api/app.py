"""Builds the model API: predictions on the shared serving engine, models loaded on demand."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mlsec.core.app import ServiceContext, create_service_app
from mlsec.core.services import get_spec
from mlsec.core.settings import Settings, load_settings
from mlsec.services.model_api.api import routers
from mlsec.services.model_api.models import Base, prediction_log
from mlsec.services.model_api.settings import PREFIX, ModelApiSettings
from mlsec.serving.lifespan import serving
from mlsec.serving.policy import ServingPolicy


def create_app(settings: Settings | None = None, model_api_settings: ModelApiSettings | None = None) -> FastAPI:
    """The model API ASGI app for the given settings (the environment's when omitted)."""
    own = model_api_settings or ModelApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI, ctx: ServiceContext) -> AsyncIterator[None]:
        async with serving(app, ctx, settings=own, policy=ServingPolicy(), log_table=prediction_log, prefix=PREFIX):
            yield

    return create_service_app(
        get_spec("model-api"),
        settings or load_settings(),
        metadata=Base.metadata,
        routers=routers,
        lifespan=lifespan,
    )
