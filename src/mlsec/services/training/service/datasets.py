"""Datasets: streamed to disk, validated and scanned for PII in chunks, stored by content hash and versioned by name.

A dataset is read by its name, which means its newest version (`get`, `get_or_raise`, `get_all`);
`get_all_versions` reads every version of one name."""

from __future__ import annotations

import hashlib
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.errors import ConflictError
from mlsec.ml.datasets import DatasetError, DatasetFormat, DatasetSummary, Task, detect_format, inspect_dataset
from mlsec.services.training.errors import DatasetNotFoundError, InvalidDatasetError, UploadTooLargeError
from mlsec.services.training.models import Dataset
from mlsec.services.training.service.privacy.scanning import PiiScanner, UploadScan

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class UploadOptions:
    """How to read an uploaded file."""

    name: str | None
    filename: str
    task: Task = "text_classification"
    text_column: str = "text"
    label_column: str = "label"
    feature_columns: list[str] | None = None


@dataclass(frozen=True)
class ReceivedFile:
    path: Path
    size_bytes: int
    sha256: str


def safe_filename(filename: str) -> str:
    """The base name of an uploaded file, reduced to safe characters."""
    base = Path(filename.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).strip("._") or "upload"
    return cleaned[-100:]


def dataset_name_for(options: UploadOptions) -> str:
    """The given name, or one made from the file name (`prompts.csv` -> `prompts`)."""
    if options.name:
        return options.name
    stem = safe_filename(options.filename).rsplit(".", 1)[0]
    return (stem or "dataset")[:100]


def incoming_dir(datasets_root: Path) -> Path:
    path = datasets_root / ".incoming"
    path.mkdir(parents=True, exist_ok=True)
    return path


async def receive_to_file(
    chunks: AsyncIterator[bytes], *, datasets_root: Path, limit: int, setting: str
) -> ReceivedFile:
    """Write a stream to a temporary file chunk by chunk, hashing it and enforcing the size limit."""
    target = incoming_dir(datasets_root) / uuid.uuid4().hex
    digest = hashlib.sha256()
    size = 0
    try:
        async with await anyio.open_file(target, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UploadTooLargeError(limit, setting)
                digest.update(chunk)
                await out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return ReceivedFile(target, size, digest.hexdigest())


def _format_of(filename: str) -> DatasetFormat:
    try:
        return detect_format(filename)
    except DatasetError as exc:
        raise InvalidDatasetError(str(exc)) from None


async def _inspect(
    received: ReceivedFile, options: UploadOptions, fmt: DatasetFormat, scan: UploadScan
) -> DatasetSummary:
    def run() -> DatasetSummary:
        return inspect_dataset(
            received.path,
            fmt=fmt,
            task=options.task,
            text_column=options.text_column,
            label_column=options.label_column,
            feature_columns=options.feature_columns,
            on_texts=scan.on_texts,
        )

    try:
        return await anyio.to_thread.run_sync(run)
    except DatasetError as exc:
        problems = [{"row": p.row, "column": p.column, "reason": p.reason} for p in exc.problems]
        raise InvalidDatasetError(str(exc), details={"problems": problems}) from None


async def create(
    session: AsyncSession, *, received: ReceivedFile, options: UploadOptions, datasets_root: Path, pii: PiiScanner
) -> tuple[Dataset, bool]:
    """Validate a received file, scanning its text column for PII in the same pass, and store it as the next
    version of its dataset (or find the same content); the dataset version, and whether it is new."""
    fmt = _format_of(options.filename)
    scan = pii.start(incoming_dir(datasets_root))
    try:
        try:
            summary = await _inspect(received, options, fmt, scan)
        except BaseException:
            received.path.unlink(missing_ok=True)
            raise
        return await _store(
            session,
            received=received,
            options=options,
            datasets_root=datasets_root,
            fmt=fmt,
            summary=summary,
            scan=scan,
        )
    finally:
        scan.close()


async def _store(
    session: AsyncSession,
    *,
    received: ReceivedFile,
    options: UploadOptions,
    datasets_root: Path,
    fmt: DatasetFormat,
    summary: DatasetSummary,
    scan: UploadScan,
) -> tuple[Dataset, bool]:
    name = dataset_name_for(options)
    latest = await get(session, name=name)
    if latest is not None and latest.sha256 == received.sha256:
        received.path.unlink(missing_ok=True)
        return latest, False
    version = (latest.version if latest else 0) + 1
    filename = safe_filename(options.filename)
    relative = Path(name) / f"v{version}" / filename
    (datasets_root / relative).parent.mkdir(parents=True, exist_ok=True)
    await anyio.to_thread.run_sync(shutil.move, received.path, datasets_root / relative)
    dataset = Dataset(
        name=name,
        version=version,
        filename=filename,
        format=fmt,
        path=str(relative),
        sha256=received.sha256,
        size_bytes=received.size_bytes,
        rows=summary.rows,
        task=options.task,
        text_column=summary.text_column,
        label_column=summary.label_column,
        feature_columns=options.feature_columns,
        columns=summary.columns,
        label_counts=summary.label_counts,
        pii_counts=dict(sorted(scan.counts.items())),
    )
    session.add(dataset)
    try:
        await session.flush()
    except IntegrityError:
        raise ConflictError(f"dataset {name!r} is being uploaded concurrently; retry") from None
    await scan.store(session, dataset_id=dataset.id)
    return dataset, True


async def get(session: AsyncSession, *, name: str) -> Dataset | None:
    """The newest version of a dataset, or None."""
    query = select(Dataset).where(Dataset.name == name).order_by(Dataset.version.desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def get_or_raise(session: AsyncSession, *, name: str) -> Dataset:
    """The newest version of a dataset; 404 when there is none."""
    dataset = await get(session, name=name)
    if dataset is None:
        raise DatasetNotFoundError(name)
    return dataset


async def get_all_versions(session: AsyncSession, *, name: str) -> Sequence[Dataset]:
    """Every version of a dataset, newest first; 404 when there is none."""
    rows = await session.execute(select(Dataset).where(Dataset.name == name).order_by(Dataset.version.desc()))
    versions = rows.scalars().all()
    if not versions:
        raise DatasetNotFoundError(name)
    return versions


async def get_all(session: AsyncSession) -> Sequence[Dataset]:
    """The newest version of every dataset, by name."""
    newest = select(Dataset.name, func.max(Dataset.version).label("version")).group_by(Dataset.name).subquery()
    query = (
        select(Dataset)
        .join(newest, (Dataset.name == newest.c.name) & (Dataset.version == newest.c.version))
        .order_by(Dataset.name)
    )
    return (await session.execute(query)).scalars().all()
