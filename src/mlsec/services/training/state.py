"""The running training service, built in the lifespan: job runner, registry view, PII scanner, consent check,
and what ties them to the database, the other services (the SDK) and the gateway's `training` topic."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio

from mlsec.client import MainAPIClient
from mlsec.core.app import ServiceContext
from mlsec.core.files import private_dir
from mlsec.core.pii_keys import load_pii_keys
from mlsec.ml.pii.engine import PiiEngine
from mlsec.services.training.models import TrainingJob
from mlsec.services.training.service import jobs
from mlsec.services.training.service.consent import ConsentCheck
from mlsec.services.training.service.privacy.scanning import PiiScanner
from mlsec.services.training.service.registry import RegistryView, terminate_run
from mlsec.services.training.service.runner import LocalProcessRunner
from mlsec.services.training.settings import TrainingSettings

logger = logging.getLogger("mlsec.training")
# MLflow's client retries a dead server 7 times with a growing backoff (minutes); a registry read
# should fail in seconds and keep the last snapshot instead. Set these variables to override.
MLFLOW_CLIENT_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}


class TrainingService:
    """Owns the job runner, the registry view, the PII scanner and the consent check for the lifetime of the app."""

    def __init__(self, ctx: ServiceContext, settings: TrainingSettings):
        for name, value in MLFLOW_CLIENT_DEFAULTS.items():
            os.environ.setdefault(name, value)
        self.ctx = ctx
        self.settings = settings
        self.datasets_root: Path = ctx.settings.home.resolve() / "datasets"
        private_dir(self.datasets_root)
        self.registry = RegistryView(ctx.settings.mlflow_uri, refresh_seconds=settings.registry_refresh_seconds)
        self.runner = LocalProcessRunner(workers=settings.workers, on_message=self.record)
        self.sdk = MainAPIClient(ctx.settings, http=ctx.http, breakers=ctx.breakers)
        self.pii = PiiScanner(PiiEngine(), load_pii_keys(ctx.settings).hash_key)
        self.consent = ConsentCheck(self.sdk, settings.consent_check)

    @property
    def tracking_uri(self) -> str:
        return self.ctx.settings.mlflow_uri

    async def start(self) -> None:
        """Settle jobs a previous run left behind; read the registry, then keep it fresh. What needs MLflow
        (ending the runs of interrupted jobs, the first registry read) is a start-up task, retried until
        MLflow answers."""
        async with self.ctx.db.session() as session:
            interrupted, queued = await jobs.interrupt_unfinished(session)
            run_ids = [job.mlflow_run_id for job in interrupted if job.mlflow_run_id]
        for job in interrupted:
            logger.warning("training.job.interrupted", extra={"job_id": job.id, "model_name": job.model_name})
        if run_ids:
            self.ctx.startup.run("interrupted_runs", functools.partial(self._terminate_runs, run_ids), state="ending")
        for job in queued:
            await self.submit(job.id)
        self.ctx.startup.run("registry", self.registry.read, state="reading")
        self.registry.start()

    async def _terminate_runs(self, run_ids: list[str]) -> None:
        """Mark the MLflow runs of interrupted jobs KILLED; raises while MLflow fails (those left are retried)."""
        while run_ids:
            await anyio.to_thread.run_sync(terminate_run, self.tracking_uri, run_ids[0])
            run_ids.pop(0)

    async def stop(self) -> None:
        await self.registry.stop()
        await self.runner.close()
        async with self.ctx.db.session() as session:
            interrupted, _ = await jobs.interrupt_unfinished(session)
        for job in interrupted:  # their workers are gone: settle what they left in MLflow now, if it answers
            if job.mlflow_run_id:
                await self._terminate_run_quietly(job.mlflow_run_id)

    async def submit(self, job_id: str) -> None:
        """Hand a committed, queued job to the runner."""
        async with self.ctx.db.session() as session:
            job = await jobs.get_or_raise(session, job_id=job_id)
            spec = await jobs.spec_for(
                session,
                job,
                datasets_root=self.datasets_root,
                tracking_uri=self.tracking_uri,
                log_level=self.ctx.settings.log_level,
            )
        self.runner.submit(spec)
        self.ctx.publish("training", "job.queued", {"job_id": job_id, "model_name": spec.model_name})

    async def record(self, job_id: str, message: tuple[Any, ...]) -> None:
        """Store what a worker reported and tell the gateway."""
        async with self.ctx.db.session() as session:
            job = await jobs.get_or_raise(session, job_id=job_id)
            jobs.apply_message(job, message, log_limit=self.settings.max_log_lines)
            event = self._event_of(job, message[0])
        logger.info("training.job.%s", message[0], extra={"job_id": job_id, "progress": event["progress"]})
        self.ctx.publish("training", f"job.{message[0]}", event)
        if message[0] == "result":
            await self.registry.refresh()
        elif message[0] == "cancelled" and event.get("mlflow_run_id"):
            await self._terminate_run_quietly(str(event["mlflow_run_id"]))

    @staticmethod
    def _event_of(job: TrainingJob, kind: str) -> dict[str, Any]:
        return {
            "job_id": job.id,
            "model_name": job.model_name,
            "status": job.status,
            "progress": job.progress,
            "step": job.step,
            "kind": kind,
            "model_version": job.model_version,
            "alias": job.alias,
            "mlflow_run_id": job.mlflow_run_id,
        }

    async def cancel(self, job_id: str) -> None:
        """Cancel a queued or running job (409 when it has already finished)."""
        async with self.ctx.db.session() as session:
            job = await jobs.get_or_raise(session, job_id=job_id)
            jobs.ensure_cancellable(job)
            queued = job.status == "queued"
            if queued:
                jobs.finish(job, "cancelled", reason="cancelled")
                jobs.append_log(job, "cancelled before it started", limit=self.settings.max_log_lines)
        await self.runner.cancel(job_id)
        if queued:
            self.ctx.publish("training", "job.cancelled", {"job_id": job_id, "status": "cancelled"})

    async def _terminate_run_quietly(self, run_id: str) -> None:
        try:
            await anyio.to_thread.run_sync(terminate_run, self.tracking_uri, run_id)
        except Exception as exc:  # MLflow may be down; the run then stays as MLflow last saw it
            logger.warning("training.run.terminate_failed", extra={"run_id": run_id, "error_type": type(exc).__name__})

    def run_url(self, job: TrainingJob) -> str | None:
        if not (job.mlflow_run_id and job.mlflow_experiment_id):
            return None
        return f"{self.tracking_uri}/#/experiments/{job.mlflow_experiment_id}/runs/{job.mlflow_run_id}"


@contextlib.asynccontextmanager
async def running(service: TrainingService) -> AsyncIterator[TrainingService]:
    """The service started for the block and stopped after it, whatever happens."""
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
