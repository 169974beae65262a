"""Erasing rows from dataset versions: each file rewritten without them, its counts and subject rows updated.

Files are written beside the originals first, and checked against the stored sha256 (a file that changed on disk,
or an erasure already renamed in by a transaction that then failed, refuses with 409 rather than erasing the
wrong rows). The database is updated and flushed, and only then are the new files renamed over the old ones
(atomic on one file system): a failure before that leaves every file as it was.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.ml.datasets import RemovedRows, detect_format, file_sha256, write_without_rows
from mlsec.services.training.errors import DatasetChangedError
from mlsec.services.training.models import Dataset, DatasetSubject
from mlsec.services.training.service.privacy.scanning import PiiScanner

DELETE_BATCH = 5_000


@dataclass(frozen=True)
class Rewrite:
    """One dataset version written again without `rows`, waiting to be renamed over the stored file."""

    dataset: Dataset
    rows: frozenset[int]
    path: Path
    temp: Path
    removed: RemovedRows
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class Erasure:
    """Rewritten files not yet in place: `apply` renames them in, `discard` forgets them."""

    rewrites: list[Rewrite]

    @property
    def rows_removed(self) -> int:
        return sum(r.removed.rows for r in self.rewrites)

    def apply(self) -> None:
        for rewrite in self.rewrites:
            rewrite.temp.replace(rewrite.path)

    def discard(self) -> None:
        for rewrite in self.rewrites:
            rewrite.temp.unlink(missing_ok=True)


def _rewrite(dataset: Dataset, rows: frozenset[int], datasets_root: Path) -> Rewrite:
    """Blocking: check the stored file, then write it again without `rows`."""
    path = datasets_root / dataset.path
    if not path.is_file() or file_sha256(path) != dataset.sha256:
        raise DatasetChangedError(dataset.name, dataset.version)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.erasing")
    try:
        removed = write_without_rows(
            path,
            temp,
            fmt=detect_format(dataset.filename),
            remove=rows,
            text_column=dataset.text_column,
            label_column=dataset.label_column,
        )
        if removed.rows != len(rows):  # an index past the end: the subject rows do not describe this file
            raise DatasetChangedError(dataset.name, dataset.version)
        return Rewrite(dataset, rows, path, temp, removed, file_sha256(temp), temp.stat().st_size)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _minus(counts: dict[str, int], removed: dict[str, int]) -> dict[str, int]:
    left = {key: value - removed.get(key, 0) for key, value in counts.items()}
    return {key: value for key, value in left.items() if value > 0}


async def _update(session: AsyncSession, rewrite: Rewrite, pii: PiiScanner) -> None:
    """The dataset row as the new file is, its removed rows' subject rows gone and the later ones renumbered."""
    dataset, removed = rewrite.dataset, rewrite.removed
    dataset.rows -= removed.rows
    dataset.sha256, dataset.size_bytes = rewrite.sha256, rewrite.size_bytes
    dataset.label_counts = _minus(dataset.label_counts, dict(removed.label_counts))
    if dataset.pii_counts is not None:
        found = await anyio.to_thread.run_sync(pii.count, removed.texts)
        dataset.pii_counts = _minus(dataset.pii_counts, dict(found))
    ordered = sorted(rewrite.rows)
    for start in range(0, len(ordered), DELETE_BATCH):
        batch = ordered[start : start + DELETE_BATCH]
        await session.execute(
            delete(DatasetSubject).where(DatasetSubject.dataset_id == dataset.id, DatasetSubject.row_index.in_(batch))
        )
    for shift, low in enumerate(ordered, start=1):  # rows between two removed ones move up by the count before
        between = [DatasetSubject.dataset_id == dataset.id, DatasetSubject.row_index > low]
        if shift < len(ordered):
            between.append(DatasetSubject.row_index < ordered[shift])
        await session.execute(
            update(DatasetSubject)
            .where(*between)
            .values(row_index=DatasetSubject.row_index - shift)
            .execution_options(synchronize_session=False)
        )


async def erase(
    session: AsyncSession, rows: Sequence[tuple[Dataset, frozenset[int]]], *, datasets_root: Path, pii: PiiScanner
) -> Erasure:
    """Write each dataset version again without its rows and update the database (flushed); the caller renames
    the files in (`apply`) once nothing else can fail, or `discard`s them."""
    rewrites: list[Rewrite] = []
    try:
        for dataset, remove in rows:
            rewrites.append(await anyio.to_thread.run_sync(_rewrite, dataset, remove, datasets_root))
        for rewrite in rewrites:
            await _update(session, rewrite, pii)
        await session.flush()
    except BaseException:
        with contextlib.suppress(OSError):
            Erasure(rewrites).discard()
        raise
    return Erasure(rewrites)
