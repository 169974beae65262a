"""Start and stop what a serving service runs: the model repository, the prediction log and its live feed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.trace import Tracer
from sqlalchemy import Table

from mlsec.core.app import ServiceContext
from mlsec.core.pii_keys import load_pii_keys
from mlsec.core.settings import ServingSettings
from mlsec.serving.policy import ServingPolicy
from mlsec.serving.prediction_log import PredictionLog, PredictionLogMetrics
from mlsec.serving.preload import Preloader
from mlsec.serving.privacy import storage_anonymizer
from mlsec.serving.records import completer
from mlsec.serving.reports import ServingEvent
from mlsec.serving.repository import ModelRepository
from mlsec.serving.spans import TRACER_NAME, PredictionSpans
from mlsec.serving.state import LabelMetrics, ServingState
from mlsec.serving.summary import PredictionSummaries

logger = logging.getLogger("mlsec.serving")
EventSink = Callable[[ServingEvent], None]


def _tracer(app: FastAPI) -> Tracer:
    """The service's own tracer (`mlsec.core.telemetry` keeps its provider on the app), else the global one."""
    provider = getattr(app.state, "tracer_provider", None)
    return provider.get_tracer(TRACER_NAME) if provider is not None else trace.get_tracer(TRACER_NAME)


@asynccontextmanager
async def serving(
    app: FastAPI,
    ctx: ServiceContext,
    *,
    settings: ServingSettings,
    policy: ServingPolicy,
    log_table: Table,
    prefix: str,
    on_event: EventSink | None = None,
) -> AsyncIterator[ServingState]:
    """The repository (models from the MLflow registry) and the prediction log, for the app's lifetime."""

    def announce(event: ServingEvent) -> None:
        logger.info("serving.model.%s", event.kind, extra={"model_name": event.name, "version": event.version})
        ctx.publish(
            "models",
            f"model.{event.kind}",
            {"model_name": event.name, "version": event.version, "service": ctx.spec.name, **event.detail},
        )
        if on_event is not None:
            on_event(event)

    registry = app.state.metrics.registry
    repository = ModelRepository(
        ctx.settings.mlflow_uri,
        policy=policy,
        registry=registry,
        max_batch=settings.micro_batch_max,
        max_wait=settings.micro_batch_wait_ms / 1000,
        alias_poll_seconds=settings.alias_poll_seconds,
        default_alias=settings.default_alias,
        threads=settings.threads,
        compile_text=settings.compile_models,
        projection=settings.projection_fraction > 0,
        on_event=announce,
    )
    # Stored text is anonymized with the deployment's hash key (the one the data-privacy service hashes subjects
    # with), read once here; a service that stores no text, or raw text, needs no key.
    anonymize = None
    if settings.store_text and settings.anonymize_text:
        anonymize = storage_anonymizer(load_pii_keys(ctx.settings).hash_key)
    log = PredictionLog(
        ctx.db,
        log_table,
        metrics=PredictionLogMetrics(registry),
        max_queue=settings.log_queue,
        prepare=completer(
            store_text=settings.store_text, projection_fraction=settings.projection_fraction, anonymize=anonymize
        ),
    )
    summaries = PredictionSummaries(source=ctx.spec.name)
    state = ServingState(
        repository=repository,
        log=log,
        settings=settings,
        source=ctx.spec.name,
        settings_prefix=prefix,
        label_metrics=LabelMetrics(registry),
        summaries=summaries,
        spans=PredictionSpans(_tracer(app), default_alias=settings.default_alias),
    )

    def publish_summary(summary: dict[str, object]) -> None:
        ctx.publish("predictions", "predictions.summary", summary)

    log.start()
    summaries.start(publish_summary)
    await repository.start()
    preloader = Preloader(repository, champion_poll_seconds=settings.champion_poll_seconds)
    if preloader.active:  # in the background, retried until MLflow answers: the service serves meanwhile
        ctx.startup.run("models", preloader.preload, state="loading")
    preloader.start()
    app.state.serving = state
    try:
        yield state
    finally:
        await ctx.startup.cancel("models")  # a preload still running must not load into a closed repository
        await preloader.close()
        await summaries.close(publish_summary)
        await repository.close()
        await log.close()
