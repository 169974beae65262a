"""Builds the training app: datasets, jobs in a local process pool, the MLflow registry view."""

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mlsec.core.app import ServiceContext, create_service_app
from mlsec.core.middleware import BodyLimit
from mlsec.core.services import get_spec
from mlsec.core.settings import Settings, load_settings
from mlsec.services.training.api import routers
from mlsec.services.training.models import Base
from mlsec.services.training.service.bootstrap import bootstrap_default_model
from mlsec.services.training.settings import TrainingSettings
from mlsec.services.training.state import TrainingService, running


def create_app(settings: Settings | None = None, training_settings: TrainingSettings | None = None) -> FastAPI:
    """The training ASGI app for the given settings (the environment's when omitted)."""
    own = training_settings or TrainingSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI, ctx: ServiceContext) -> AsyncIterator[None]:
        async with running(TrainingService(ctx, own)) as service:
            app.state.training = service
            if own.bootstrap_default_model:  # retried until MLflow answers
                ctx.startup.run("default_model", functools.partial(bootstrap_default_model, service), state="checking")
            yield

    limits = {
        "/data/upload-data": BodyLimit(own.max_upload_bytes + 64 * 1024, "MLSEC_TRAINING_MAX_UPLOAD_BYTES"),
        "/data/efficient/upload-large-file": BodyLimit(
            own.max_large_upload_bytes, "MLSEC_TRAINING_MAX_LARGE_UPLOAD_BYTES"
        ),
    }
    return create_service_app(
        get_spec("training"),
        settings or load_settings(),
        metadata=Base.metadata,
        routers=routers,
        lifespan=lifespan,
        body_limits=limits,
    )
