"""Generating a report: read the period's figures, render them off the event loop, store the bytes.

Rendering (matplotlib: charts, PDF pages) is CPU work of about a second; it runs in a worker thread so the
service keeps answering, and at most RENDER_THREADS at a time so a burst of requests queues instead of
multiplying memory. The database sessions are not held while rendering."""

from __future__ import annotations

import threading
from datetime import datetime

import anyio.to_thread

from mlsec.core.database import Database
from mlsec.services.business_metrics.service.costs import Prices
from mlsec.services.business_metrics.service.period import Period
from mlsec.services.business_metrics.service.reports import build, store
from mlsec.services.business_metrics.service.reports.content import ReportContent, ReportFormat
from mlsec.services.business_metrics.service.reports.render import render
from mlsec.services.business_metrics.settings import BusinessMetricsSettings

RENDER_THREADS = 2
_rendering = threading.BoundedSemaphore(RENDER_THREADS)  # a thread primitive: no event loop needed to build it


def _render_bounded(content: ReportContent, fmt: ReportFormat) -> bytes:
    with _rendering:
        return render(content, fmt)


async def generate(
    db: Database,
    settings: BusinessMetricsSettings,
    *,
    period: Period,
    fmt: ReportFormat,
    title: str | None,
    trigger: str,
    now: datetime,
) -> store.ReportInfo:
    """Build, render and store one report; the table's age and count limits are applied in the same step."""
    prices = Prices.from_settings(settings)
    async with db.session() as session:
        content = await build.build(session, period, prices, title=title, now=now)
    data = await anyio.to_thread.run_sync(_render_bounded, content, fmt)
    async with db.session() as session:
        info = await store.create(
            session, period=period, fmt=fmt, title=content.title, trigger=trigger, content=data, now=now
        )
        await store.delete_expired(session, now=now, retention_days=settings.report_retention_days)
    return info
