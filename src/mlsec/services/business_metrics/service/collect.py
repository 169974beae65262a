"""One collection round: the production predictions the serving services logged, every service's health and
process figures, and analytics' feedback, retrains, promotions and drift alerts, written to the rollups; then
old buckets are deleted and the after-collect hooks run (SLA checks, the daily report).

Each source is read on its own: one that fails is recorded (time and error type, shown by `GET /`) and the
others go on; what a failed source did not deliver is read next round from its cursor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TypeVar

from mlsec.client.base import ServiceCallError
from mlsec.core.services import SERVICES
from mlsec.services.business_metrics.service import cursors, rollups
from mlsec.services.business_metrics.service.period import Resolution
from mlsec.services.business_metrics.service.sources import analytics, predictions, services
from mlsec.services.business_metrics.state import BusinessMetrics

logger = logging.getLogger("mlsec.business_metrics.collect")
T = TypeVar("T")


def watched_services(business: BusinessMetrics) -> list[str]:
    """The services probed each round: the configured ones, else every service of the platform."""
    return list(business.settings.watched_services) or [spec.name for spec in SERVICES]


async def _guard(business: BusinessMetrics, source: str, work: Awaitable[T], at: datetime) -> T | None:
    """Run one source's read; record its success or its failure (the error type only, never a message)."""
    status = business.source(source)
    try:
        result = await work
    except (ServiceCallError, ValueError, KeyError, TypeError) as exc:
        status.last_failure_at = at
        status.error_type = exc.error_type if isinstance(exc, ServiceCallError) else type(exc).__name__
        logger.warning("business.collect.source_failed", extra={"source": source, "error_type": status.error_type})
        return None
    status.last_success_at = at
    status.error_type = None
    if isinstance(result, int):
        status.records = result
    return result


async def _known_models(business: BusinessMetrics) -> list[str]:
    """Models whose prediction logs were ever read (the promotion ledger and feedback are per model)."""
    names: set[str] = set()
    async with business.ctx.db.session() as session:
        for service in predictions.SERVING_SERVICES:
            names.update(await cursors.get(session, f"predictions:{service}") or {})
    return sorted(names)


async def run_round(business: BusinessMetrics, now: datetime | None = None) -> None:
    """One round of every source, retention, then the hooks (a failing hook is logged, the others run)."""
    at = now or datetime.now(UTC)
    started = time.monotonic()
    for service in predictions.SERVING_SERVICES:
        await _guard(business, f"predictions:{service}", predictions.collect(business, service), at)
    await _guard(business, "services", services.collect(business, watched_services(business), at), at)
    with_feedback = await _guard(business, "feedback", analytics.collect_feedback(business, at), at) or []
    for model in sorted(set(await _known_models(business)) | set(with_feedback)):
        await _guard(business, f"promotions:{model}", analytics.collect_promotions(business, model), at)
    await _guard(business, "retrains", analytics.collect_retrains(business), at)
    await _guard(business, "drift_alerts", analytics.collect_drift_alerts(business), at)
    await delete_expired(business, at)
    business.last_round_at = at
    business.last_round_seconds = time.monotonic() - started
    for hook in list(business.after_collect):
        try:
            await hook(business, at)
        except Exception as exc:
            logger.exception("business.collect.hook_failed", extra={"error_type": type(exc).__name__})


async def delete_expired(business: BusinessMetrics, at: datetime) -> int:
    """Delete the rollup buckets past their resolution's retention."""
    settings = business.settings
    retention: dict[Resolution, int] = {
        "minute": settings.minute_retention_days,
        "hour": settings.hour_retention_days,
        "day": settings.day_retention_days,
    }
    async with business.ctx.db.session() as session:
        return await rollups.delete_expired(session, at, retention)
