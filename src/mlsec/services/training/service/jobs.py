"""Training jobs: create from a config, list, cancel, record what workers report, recover after a restart."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.errors import InvalidInputError
from mlsec.ml.datasets import detect_format
from mlsec.services.training.errors import DatasetNotFoundError, JobNotCancellableError, JobNotFoundError
from mlsec.services.training.models import Dataset, TrainingJob
from mlsec.services.training.schemas.configs import TrainingConfigBody
from mlsec.services.training.service import datasets
from mlsec.services.training.service.configs import validate_params
from mlsec.services.training.service.consent import ConsentCheck
from mlsec.services.training.service.worker import DatasetRef, JobSpec

FINISHED = frozenset({"succeeded", "failed", "cancelled"})
logger = logging.getLogger("mlsec.training.jobs")


def feedback_dataset_name(model_name: str) -> str:
    """Where labelled feedback for a model is stored as a dataset (retraining picks it up)."""
    return f"{model_name}-feedback"


def _ref(dataset: Dataset, datasets_root: Path) -> DatasetRef:
    fmt = detect_format(dataset.filename)
    return DatasetRef(
        name=dataset.name,
        version=dataset.version,
        path=str(datasets_root / dataset.path),
        format=fmt,
        sha256=dataset.sha256,
        text_column=dataset.text_column,
        label_column=dataset.label_column,
        feature_columns=dataset.feature_columns,
    )


async def _training_datasets(
    session: AsyncSession, config: TrainingConfigBody, *, model_name: str, with_feedback: bool
) -> list[Dataset]:
    chosen = [await datasets.get_or_raise(session, name=config.dataset)]
    if with_feedback and config.include_feedback:
        feedback = await datasets.get(session, name=feedback_dataset_name(model_name))
        if feedback is not None:
            chosen.append(feedback)
    for dataset in chosen:
        if dataset.task != config.task:
            raise InvalidInputError(
                f"dataset {dataset.name!r} was uploaded for {dataset.task}, not {config.task}",
                details={"dataset": dataset.name, "task": dataset.task},
            )
    return chosen


async def create(
    session: AsyncSession, *, model_name: str, kind: str, config: TrainingConfigBody, consent: ConsentCheck | None
) -> TrainingJob:
    """A queued job for a model, pinned to the newest versions of its datasets; `consent` checks first that their
    subjects agreed to training (None: no check, for the shipped public data only)."""
    config = config.model_copy(update={"params": validate_params(config.task, config.params)})
    chosen = await _training_datasets(session, config, model_name=model_name, with_feedback=kind == "retrain")
    if config.evaluation_dataset:
        chosen.append(await datasets.get_or_raise(session, name=config.evaluation_dataset))
    if consent is not None:
        await consent.ensure(session, chosen)
    return await _queued(
        session, model_name=model_name, kind=kind, config=config.model_dump(), dataset_ids=[d.id for d in chosen]
    )


async def create_like(session: AsyncSession, *, job: TrainingJob, consent: ConsentCheck) -> TrainingJob:
    """A queued retraining of `job`'s model with its configuration on the same dataset versions (as they are
    now: after an erasure, without the erased rows); 404 when one of them was deleted since."""
    found = (await session.execute(select(Dataset).where(Dataset.id.in_(job.dataset_ids)))).scalars().all()
    by_id = {d.id: d for d in found}
    missing = [i for i in job.dataset_ids if i not in by_id]
    if missing:
        raise DatasetNotFoundError(f"id {missing[0]} (used by job {job.id})")
    await consent.ensure(session, [by_id[i] for i in job.dataset_ids])
    return await _queued(
        session, model_name=job.model_name, kind="retrain", config=job.config, dataset_ids=job.dataset_ids
    )


async def _queued(
    session: AsyncSession, *, model_name: str, kind: str, config: dict[str, Any], dataset_ids: list[int]
) -> TrainingJob:
    job = TrainingJob(
        id=uuid.uuid4().hex[:16],
        model_name=model_name,
        kind=kind,
        status="queued",
        progress=0,
        step="queued",
        config=config,
        dataset_ids=list(dataset_ids),
        metrics={},
        logs=[],
    )
    session.add(job)
    await session.flush()
    return job


async def spec_for(
    session: AsyncSession, job: TrainingJob, *, datasets_root: Path, tracking_uri: str, log_level: str
) -> JobSpec:
    """What the worker needs to run a job (the evaluation dataset, if any, is the last id)."""
    config = TrainingConfigBody.model_validate(job.config)
    rows = {d.id: d for d in (await session.execute(select(Dataset).where(Dataset.id.in_(job.dataset_ids)))).scalars()}
    ordered = [rows[i] for i in job.dataset_ids]
    evaluation = ordered.pop() if config.evaluation_dataset else None
    return JobSpec(
        job_id=job.id,
        model_name=job.model_name,
        task=config.task,
        datasets=[_ref(d, datasets_root) for d in ordered],
        evaluation=_ref(evaluation, datasets_root) if evaluation else None,
        test_size=config.test_size,
        params=config.params,
        tracking_uri=tracking_uri,
        log_level=log_level,
        tags={"mlsec.job_kind": job.kind},
    )


async def get_or_raise(session: AsyncSession, *, job_id: str) -> TrainingJob:
    job = await session.get(TrainingJob, job_id)
    if job is None:
        raise JobNotFoundError(job_id)
    return job


async def get_all(
    session: AsyncSession, *, status: str | None, model_name: str | None, kind: str | None, limit: int, offset: int
) -> tuple[Sequence[TrainingJob], int]:
    """A page of jobs, newest first, and how many match in all."""
    query = select(TrainingJob)
    if status:
        query = query.where(TrainingJob.status == status)
    if model_name:
        query = query.where(TrainingJob.model_name == model_name)
    if kind:
        query = query.where(TrainingJob.kind == kind)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    page = query.order_by(TrainingJob.created_at.desc(), TrainingJob.id).limit(limit).offset(offset)
    return (await session.execute(page)).scalars().all(), int(total)


def ensure_cancellable(job: TrainingJob) -> None:
    if job.status in FINISHED:
        raise JobNotCancellableError(job.id, job.status)


def finish(job: TrainingJob, status: str, *, reason: str | None = None, error: str | None = None) -> None:
    job.status = status
    job.failure_reason = reason
    job.error = error
    job.finished_at = datetime.now(UTC)
    job.step = status


async def interrupt_unfinished(session: AsyncSession) -> tuple[list[TrainingJob], list[TrainingJob]]:
    """After a restart: running jobs become failed/interrupted; queued ones are returned to run again."""
    rows = (await session.execute(select(TrainingJob).where(TrainingJob.status.in_(("running", "queued"))))).scalars()
    interrupted, queued = [], []
    for job in rows:
        if job.status == "running":
            finish(job, "failed", reason="interrupted", error="the training service stopped while the job ran")
            append_log(job, "interrupted: the training service stopped while the job ran", limit=10_000)
            interrupted.append(job)
        else:
            queued.append(job)
    await session.flush()
    return interrupted, queued


def append_log(job: TrainingJob, message: str, *, limit: int) -> None:
    """Add a log line (a new list, so the JSON column is seen as changed); keep the last `limit`."""
    job.logs = [*job.logs, {"ts": datetime.now(UTC).isoformat(), "message": message[:2000]}][-limit:]


def apply_message(job: TrainingJob, message: tuple[Any, ...], *, log_limit: int) -> None:
    """Record one worker message on the job row."""
    kind = message[0]
    if kind == "started":
        job.status, job.step, job.started_at = "running", "starting", datetime.now(UTC)
        append_log(job, f"started in process {message[1]}", limit=log_limit)
    elif kind == "run":
        job.mlflow_run_id, job.mlflow_experiment_id = message[1], message[2]
    elif kind == "progress":
        job.progress, job.step = max(job.progress, int(message[1])), str(message[2])
        append_log(job, f"{message[2]} ({message[1]}%)", limit=log_limit)
    elif kind == "log":
        append_log(job, str(message[1]), limit=log_limit)
    elif kind == "result":
        payload = message[1]
        job.metrics = {k: v for k, v in payload["metrics"].items() if isinstance(v, int | float)}
        job.model_version, job.alias = payload["model_version"], payload["alias"]
        job.training_seconds = payload.get("training_seconds")
        job.progress = 100
        finish(job, "succeeded")
        append_log(job, f"registered {job.model_name} version {job.model_version} as {job.alias}", limit=log_limit)
    elif kind == "error":
        finish(job, "failed", reason="error", error=str(message[1]))
        append_log(job, f"failed: {message[1]}", limit=log_limit)
    elif kind == "cancelled":
        finish(job, "cancelled", reason="cancelled")
        append_log(job, "cancelled", limit=log_limit)
