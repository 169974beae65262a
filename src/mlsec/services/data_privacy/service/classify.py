"""Classification: the findings of one text and its sensitivity level, kept in the history without the text
(its keyed hash and length stand in, so "was this text classified?" is answerable, "what did it say?" is not)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import anyio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.ml.pii.classification import Classification as Verdict
from mlsec.ml.pii.classification import classify
from mlsec.ml.pii.engine import PiiEngine
from mlsec.ml.pii.findings import Finding
from mlsec.services.data_privacy.models import Classification
from mlsec.services.data_privacy.state import Privacy


@dataclass(frozen=True)
class Classified:
    record: Classification
    findings: list[Finding]
    verdict: Verdict


def _scan_and_classify(engine: PiiEngine, text: str) -> tuple[list[Finding], Verdict]:
    findings = engine.scan(text)
    return findings, classify(findings)


async def create(
    session: AsyncSession,
    privacy: Privacy,
    text: str,
    *,
    entities: Sequence[str] | None,
    threshold: float | None,
    caller: str,
) -> Classified:
    """Scan (in a worker thread: a long text must not hold the event loop), classify, record."""
    engine = privacy.engine_for(entities, threshold)
    findings, verdict = await anyio.to_thread.run_sync(_scan_and_classify, engine, text)
    record = Classification(
        level=verdict.level,
        text_hash=privacy.text_hash(text),
        text_length=len(text),
        counts=dict(verdict.counts),
        reasons=list(verdict.reasons),
        caller=caller,
    )
    session.add(record)
    await session.flush()
    return Classified(record, findings, verdict)


async def get_all(
    session: AsyncSession, *, level: str | None, limit: int, offset: int
) -> tuple[list[Classification], int]:
    """The history, newest first, with the total that matched."""
    query = select(Classification)
    if level is not None:
        query = query.where(Classification.level == level)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(query.order_by(Classification.id.desc()).limit(limit).offset(offset))
    return list(rows.scalars()), int(total)


async def count_older(session: AsyncSession, before: datetime) -> int:
    query = select(func.count()).select_from(Classification).where(Classification.created_at < before)
    return int((await session.execute(query)).scalar_one())
