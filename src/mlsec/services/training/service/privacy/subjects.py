"""A person's rows in the stored datasets, found by the keyed hashes of their identifiers, and the registered
model versions trained on those dataset versions; with `erase`, the rows leave the files, and with `retrain` one
retraining per affected model is queued on the erased data."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.errors import ConflictError, NotFoundError, ServiceUnavailableError
from mlsec.services.training.models import Dataset, DatasetSubject, TrainingJob
from mlsec.services.training.schemas.privacy import (
    RetrainRefused,
    SubjectDataset,
    SubjectModel,
    SubjectsRead,
)
from mlsec.services.training.service import jobs
from mlsec.services.training.service.consent import ConsentCheck
from mlsec.services.training.service.privacy.erasure import erase as erase_rows
from mlsec.services.training.service.privacy.scanning import PiiScanner

QUERY_BATCH = 5_000  # hashes per IN (...): well under SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class PrivacyContext:
    """What an erasure needs of the running service."""

    datasets_root: Path
    pii: PiiScanner
    consent: ConsentCheck
    log_limit: int


async def get_rows(session: AsyncSession, hashes: Sequence[str]) -> list[tuple[Dataset, frozenset[int]]]:
    """Each dataset version holding any of the hashes, with the indexes of those rows; by name, then version."""
    found: dict[int, set[int]] = defaultdict(set)
    unique = sorted(set(hashes))
    for start in range(0, len(unique), QUERY_BATCH):
        query = select(DatasetSubject.dataset_id, DatasetSubject.row_index).where(
            DatasetSubject.value_hash.in_(unique[start : start + QUERY_BATCH])
        )
        for dataset_id, row in await session.execute(query):
            found[dataset_id].add(row)
    if not found:
        return []
    versions = select(Dataset).where(Dataset.id.in_(found)).order_by(Dataset.name, Dataset.version)
    return [(d, frozenset(found[d.id])) for d in (await session.execute(versions)).scalars()]


def _version_key(version: str | None) -> tuple[int, str]:
    text = version or ""
    return (int(text), text) if text.isdigit() else (-1, text)


async def get_models(session: AsyncSession, datasets: Sequence[Dataset]) -> list[tuple[TrainingJob, Dataset]]:
    """(succeeded job that registered a model version, affected dataset version it used), one per pair."""
    by_id = {d.id: d for d in datasets}
    query = select(TrainingJob).where(TrainingJob.status == "succeeded", TrainingJob.model_version.is_not(None))
    pairs = [
        (job, by_id[dataset_id])
        for job in (await session.execute(query)).scalars()
        for dataset_id in job.dataset_ids
        if dataset_id in by_id
    ]
    return sorted(pairs, key=lambda p: (p[0].model_name, _version_key(p[0].model_version), p[1].name, p[1].version))


def _model(job: TrainingJob, dataset: Dataset) -> SubjectModel:
    return SubjectModel(
        model_name=job.model_name,
        model_version=str(job.model_version),
        run_id=job.mlflow_run_id,
        job_id=job.id,
        dataset_name=dataset.name,
        dataset_version=dataset.version,
    )


async def _retrain(
    session: AsyncSession, trained: list[tuple[TrainingJob, Dataset]], ctx: PrivacyContext, rows_removed: int
) -> tuple[list[str], list[RetrainRefused]]:
    """One retraining per affected model, like the job of its newest affected version; a model whose retraining
    is refused (consent, a deleted dataset) is named with the reason instead."""
    latest: dict[str, TrainingJob] = {}
    for job, _ in trained:  # sorted by version: the last one of a model is its newest
        latest[job.model_name] = job
    queued: list[str] = []
    refused: list[RetrainRefused] = []
    for name, job in latest.items():
        try:
            new = await jobs.create_like(session, job=job, consent=ctx.consent)
        except (ConflictError, NotFoundError, ServiceUnavailableError) as exc:
            refused.append(RetrainRefused(model_name=name, reason=exc.message))
            continue
        message = f"retrain after erasing {rows_removed} row(s) of data subjects (version {job.model_version})"
        jobs.append_log(new, message, limit=ctx.log_limit)
        queued.append(new.id)
    return queued, refused


async def find(
    session: AsyncSession, hashes: Sequence[str], *, erase: bool, retrain: bool, ctx: PrivacyContext
) -> SubjectsRead:
    """Where the hashes are and which model versions were trained there; `erase` removes the rows (atomically per
    file), `retrain` (with `erase` only) queues the retraining jobs, whose ids the caller submits after commit."""
    rows = await get_rows(session, hashes)
    trained = await get_models(session, [dataset for dataset, _ in rows])
    answer = SubjectsRead(
        datasets=[SubjectDataset(name=d.name, version=d.version, rows=len(r)) for d, r in rows],
        models=[_model(job, dataset) for job, dataset in trained],
        rows_removed=0,
        retrain_jobs=[],
    )
    if not (erase and rows):
        return answer
    erasure = await erase_rows(session, rows, datasets_root=ctx.datasets_root, pii=ctx.pii)
    try:
        answer.rows_removed = erasure.rows_removed
        if retrain and trained:
            answer.retrain_jobs, answer.retrain_refused = await _retrain(session, trained, ctx, answer.rows_removed)
            await session.flush()
    except BaseException:
        with contextlib.suppress(OSError):
            erasure.discard()
        raise
    erasure.apply()
    return answer
