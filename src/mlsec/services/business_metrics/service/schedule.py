"""The daily report: after a collection round, once the configured hour (UTC) has passed, the previous UTC
day's report is generated if it is not stored yet. The check reads the stored reports, so a restart neither
skips nor repeats a day; stored reports past their retention are deleted on the same occasion."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from mlsec.services.business_metrics.service.period import Period
from mlsec.services.business_metrics.service.reports import store
from mlsec.services.business_metrics.service.reports.content import ReportFormat
from mlsec.services.business_metrics.service.reports.generate import generate
from mlsec.services.business_metrics.state import BusinessMetrics

log = logging.getLogger(__name__)

DAILY_FORMAT: ReportFormat = "pdf"
"""A manager's report: pages to read; the same figures as CSV or JSON are one `POST /reports/generate` away."""


def due_period(now: datetime, hour_utc: int) -> Period | None:
    """The day a report is due for at `now`: yesterday (UTC, midnight to midnight) once today's hour has
    passed; None before it."""
    if now.hour < hour_utc:
        return None
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return Period(today - timedelta(days=1), today)


async def report_after_collect(business: BusinessMetrics, now: datetime) -> None:
    """The after-collect hook: expire old reports, then generate the daily report when it is due and missing."""
    settings = business.settings
    async with business.ctx.db.session() as session:
        await store.delete_expired(session, now=now, retention_days=settings.report_retention_days)
        period = None if settings.daily_report_hour_utc is None else due_period(now, settings.daily_report_hour_utc)
        if period is None or await store.get_scheduled(session, period.start) is not None:
            return
    title = f"Daily business report {period.start:%Y-%m-%d}"
    info = await generate(
        business.ctx.db, settings, period=period, fmt=DAILY_FORMAT, title=title, trigger="schedule", now=now
    )
    log.info("business.report.scheduled", extra={"report_id": info.id, "period_start": period.start.isoformat()})
    business.ctx.publish("business", "report.generated", {"report_id": info.id, "trigger": "schedule"})
