"""Retention of dataset versions: old versions are deleted, file and row (its subject rows go with it).

Never deleted, however old: the newest version of each dataset name (what training uses by default), and a
version that a queued or running job uses (its worker reads the file).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import anyio
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.training.models import Dataset, TrainingJob

logger = logging.getLogger("mlsec.training.privacy")


async def get_all_expired(session: AsyncSession, *, older_than: datetime) -> list[Dataset]:
    """Versions created before `older_than`, except the newest of each name and those a pending job uses."""
    newest = select(Dataset.name, func.max(Dataset.version).label("version")).group_by(Dataset.name).subquery()
    query = (
        select(Dataset)
        .join(newest, Dataset.name == newest.c.name)
        .where(Dataset.created_at < older_than, Dataset.version < newest.c.version)
        .order_by(Dataset.name, Dataset.version)
    )
    pending = select(TrainingJob.dataset_ids).where(TrainingJob.status.in_(("queued", "running")))
    in_use = {int(i) for ids in (await session.execute(pending)).scalars() for i in ids}
    return [d for d in (await session.execute(query)).scalars() if d.id not in in_use]


def _remove_files(paths: Sequence[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the version's folder, when nothing else is in it
            path.parent.rmdir()


async def delete_expired(
    session: AsyncSession, *, older_than: datetime, dry_run: bool, datasets_root: Path
) -> tuple[int, int]:
    """(matched, deleted): the expired versions, and how many were deleted (0 on a dry run)."""
    expired = await get_all_expired(session, older_than=older_than)
    if dry_run or not expired:
        return len(expired), 0
    gone = [(d.id, d.name, d.version, datasets_root / d.path) for d in expired]
    await session.execute(delete(Dataset).where(Dataset.id.in_([i for i, *_ in gone])))
    await session.flush()
    await anyio.to_thread.run_sync(_remove_files, [path for *_, path in gone])
    for _, name, version, _ in gone:
        logger.info("training.dataset.expired", extra={"dataset": name, "version": version})
    return len(gone), len(gone)
