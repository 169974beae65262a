"""The collector's status and what the store holds (`GET /`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.business_metrics.schemas.overview import (
    OverviewRead,
    PricesRead,
    RetentionRead,
    ServiceStateRead,
    SourceRead,
)
from mlsec.services.business_metrics.service import rollups
from mlsec.services.business_metrics.service.collect import watched_services
from mlsec.services.business_metrics.state import BusinessMetrics


async def get(session: AsyncSession, business: BusinessMetrics, *, version: str) -> OverviewRead:
    """Sources with their last success and failure, the last round, rows per resolution, retention and prices."""
    settings, collector = business.settings, business.collector
    return OverviewRead(
        service=business.ctx.spec.name,
        version=version,
        collecting=collector.running,
        interval_s=collector.interval,
        rounds=collector.rounds,
        failed_rounds=collector.failures,
        last_round_at=business.last_round_at,
        last_round_seconds=business.last_round_seconds,
        sources=[
            SourceRead(
                name=status.name,
                last_success_at=status.last_success_at,
                last_failure_at=status.last_failure_at,
                error_type=status.error_type,
                records=status.records,
            )
            for status in sorted(business.sources.values(), key=lambda s: s.name)
        ],
        services=[
            ServiceStateRead(service=name, healthy=state.healthy, probed_at=state.at)
            for name, state in sorted(business.scrapes.items())
        ],
        watched_services=watched_services(business),
        rows=await rollups.count_rows(session),
        retention=RetentionRead(
            minute_days=settings.minute_retention_days,
            hour_days=settings.hour_retention_days,
            day_days=settings.day_retention_days,
        ),
        prices=PricesRead(
            cpu_per_hour=settings.cpu_price_per_hour,
            memory_per_gib_hour=settings.memory_price_per_gib_hour,
            currency=settings.currency,
        ),
    )
