"""Stored reports: create, list, read, and the limits that keep the table bounded (age and count). Reads of
metadata never load a report's bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.errors import NotFoundError
from mlsec.services.business_metrics.models import Report
from mlsec.services.business_metrics.service.period import Period
from mlsec.services.business_metrics.service.reports.content import ReportFormat

MAX_STORED_REPORTS = 1_000
"""The newest reports kept whatever their age; older ones are deleted when a report is added."""
METADATA = (
    Report.id,
    Report.created_at,
    Report.period_start,
    Report.period_end,
    Report.format,
    Report.title,
    Report.trigger,
    Report.size_bytes,
)


@dataclass(frozen=True)
class ReportInfo:
    """A stored report without its content."""

    id: int
    created_at: datetime
    period_start: datetime
    period_end: datetime
    format: ReportFormat
    title: str
    trigger: str
    size_bytes: int


class ReportNotFoundError(NotFoundError):
    def __init__(self, report_id: int):
        super().__init__(f"no report {report_id}", details={"report_id": report_id})


def _info(row: Any) -> ReportInfo:
    return ReportInfo(**{column.key: getattr(row, column.key) for column in METADATA})


async def create(
    session: AsyncSession, *, period: Period, fmt: ReportFormat, title: str, trigger: str, content: bytes, now: datetime
) -> ReportInfo:
    """Store a rendered report (flushed, so its id is known; the caller's transaction commits it)."""
    report = Report(
        created_at=now,
        period_start=period.start,
        period_end=period.end,
        format=fmt,
        title=title,
        trigger=trigger,
        size_bytes=len(content),
        content=content,
    )
    session.add(report)
    await session.flush()
    return _info(report)


async def get_all(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[ReportInfo], int]:
    """One page of reports, newest first; and how many are stored."""
    rows = await session.execute(
        select(*METADATA).order_by(Report.created_at.desc(), Report.id.desc()).limit(limit).offset(offset)
    )
    total = await session.scalar(select(func.count()).select_from(Report))
    return [_info(row) for row in rows], int(total or 0)


async def get_or_raise(session: AsyncSession, report_id: int) -> ReportInfo:
    """One report's metadata; 404 when unknown."""
    row = (await session.execute(select(*METADATA).where(Report.id == report_id))).first()
    if row is None:
        raise ReportNotFoundError(report_id)
    return _info(row)


async def get_content_or_raise(session: AsyncSession, report_id: int) -> tuple[ReportInfo, bytes]:
    """One report's metadata and bytes; 404 when unknown."""
    row = (await session.execute(select(*METADATA, Report.content).where(Report.id == report_id))).first()
    if row is None:
        raise ReportNotFoundError(report_id)
    return _info(row), bytes(row.content)


async def get_scheduled(session: AsyncSession, period_start: datetime) -> ReportInfo | None:
    """The scheduled report of the period starting then, if one was stored (so a restart does not redo it)."""
    query = select(*METADATA).where(Report.trigger == "schedule", Report.period_start == period_start).limit(1)
    row = (await session.execute(query)).first()
    return None if row is None else _info(row)


async def delete_expired(session: AsyncSession, *, now: datetime, retention_days: int) -> int:
    """Delete reports older than the retention, and all but the newest MAX_STORED_REPORTS; how many went."""
    result = await session.execute(delete(Report).where(Report.created_at < now - timedelta(days=retention_days)))
    deleted = int(getattr(result, "rowcount", 0) or 0)
    keep = select(Report.id).order_by(Report.created_at.desc(), Report.id.desc()).limit(MAX_STORED_REPORTS)
    result = await session.execute(delete(Report).where(Report.id.not_in(keep.scalar_subquery())))
    return deleted + int(getattr(result, "rowcount", 0) or 0)
