"""Builds the data-privacy app: seed 000's routes on the PII engine, the platform's keys and the stores' APIs."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import anyio
from fastapi import FastAPI

from mlsec.client import MainAPIClient
from mlsec.core.app import ServiceContext, create_service_app
from mlsec.core.pii_keys import load_pii_keys
from mlsec.core.services import get_spec
from mlsec.core.settings import Settings, load_settings
from mlsec.core.subscription import EventSubscription
from mlsec.ml.pii.engine import ALL_TYPES, PiiEngine
from mlsec.services.data_privacy.api import routers
from mlsec.services.data_privacy.models import Base
from mlsec.services.data_privacy.service import audit, events
from mlsec.services.data_privacy.settings import DataPrivacySettings
from mlsec.services.data_privacy.state import Privacy


async def warm_up(engine: PiiEngine) -> None:
    """Load the engine's word lists now (1 to 2.5 s, once), not in the first request's time."""
    await anyio.to_thread.run_sync(engine.scan, "Dr Jane Miller moved to Lisbon.")


def create_app(settings: Settings | None = None, data_privacy_settings: DataPrivacySettings | None = None) -> FastAPI:
    """The data-privacy ASGI app for the given settings (the environment's when omitted)."""
    own = data_privacy_settings or DataPrivacySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI, ctx: ServiceContext) -> AsyncIterator[None]:
        privacy = Privacy(
            ctx=ctx,
            settings=own,
            keys=load_pii_keys(ctx.settings),
            engine=PiiEngine(
                types=own.types or ALL_TYPES,
                threshold=own.threshold,
                allow=own.allow_list,
                deny=own.deny_list,
                region=own.region,
            ),
            sdk=MainAPIClient(ctx.settings, http=ctx.http, breakers=ctx.breakers),
        )
        await audit.ensure_chain(ctx.db)
        app.state.privacy = privacy
        ctx.startup.run("pii-engine", partial(warm_up, privacy.engine), state="loading the name and place lists")
        if own.audit_events:
            privacy.subscription = EventSubscription(
                ctx.settings, events.TOPICS, partial(events.record, privacy), name="data-privacy"
            )
            privacy.subscription.start()
        try:
            yield
        finally:
            await privacy.close()

    return create_service_app(
        get_spec("data-privacy"),
        settings or load_settings(),
        metadata=Base.metadata,
        routers=routers,
        lifespan=lifespan,
    )
