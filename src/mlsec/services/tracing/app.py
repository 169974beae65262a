"""Builds the tracing app: the OTLP receiver, the trace queries and the retention schedule on the service's
own database."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from mlsec.core.app import ServiceContext, create_service_app
from mlsec.core.background import Periodic
from mlsec.core.middleware import BodyLimit
from mlsec.core.services import get_spec
from mlsec.core.settings import Settings, load_settings
from mlsec.services.tracing.api import routers
from mlsec.services.tracing.models import Base
from mlsec.services.tracing.service import retention
from mlsec.services.tracing.service.ingest import Ingester
from mlsec.services.tracing.settings import TracingSettings
from mlsec.services.tracing.state import Tracing

RECEIVER_PATH = "/v1/traces"
RECEIVER_LIMIT = BodyLimit(sys.maxsize, "MLSEC_TRACING_MAX_REQUEST_BYTES")
"""The core's body limit steps aside for the receiver, which counts the body itself: its 413 is then OTLP's
`google.rpc.Status` in the request's encoding, and its limit (MLSEC_TRACING_MAX_REQUEST_BYTES) holds for the
decompressed body too."""


def create_app(settings: Settings | None = None, tracing_settings: TracingSettings | None = None) -> FastAPI:
    """The tracing ASGI app for the given settings (the environment's when omitted)."""
    own = tracing_settings or TracingSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI, ctx: ServiceContext) -> AsyncIterator[None]:
        ingester = Ingester(ctx.db, max_pending_spans=own.max_pending_spans, max_write_spans=own.max_write_spans)
        work = partial(
            retention.apply, ctx.db, ingester.lock, retention_hours=own.retention_hours, max_spans=own.max_spans
        )
        tracing = Tracing(
            ctx=ctx,
            settings=own,
            ingester=ingester,
            retention=Periodic("tracing-retention", work, interval=own.retention_interval_s, first_at_once=True),
        )
        app.state.tracing = tracing
        tracing.start()
        try:
            yield
        finally:
            await tracing.close()

    return create_service_app(
        get_spec("tracing"),
        settings or load_settings(),
        metadata=Base.metadata,
        routers=routers,
        lifespan=lifespan,
        body_limits={RECEIVER_PATH: RECEIVER_LIMIT},
    )
