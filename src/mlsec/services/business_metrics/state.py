"""What the running business-metrics service holds: its context, settings, the SDK, the collector's schedule,
what each source last answered, and the hooks run after every collection round (SLA checks, the daily report)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from mlsec.client import MainAPIClient
from mlsec.core.app import ServiceContext
from mlsec.core.background import Periodic
from mlsec.services.business_metrics.settings import BusinessMetricsSettings


@dataclass
class SourceStatus:
    """The last read of one source: when it last worked, when it last failed and why (an error type, never text)."""

    name: str
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    error_type: str | None = None
    records: int = 0


@dataclass
class ScrapeState:
    """A service's previous probe: its health and counter values, the base of the next deltas (kept in memory:
    after a restart of this service the first scrape is a new base)."""

    at: datetime
    healthy: bool
    counters: dict[str, float] | None


@dataclass
class BusinessMetrics:
    """Built in the lifespan; routes reach it through `BusinessDep`."""

    ctx: ServiceContext
    settings: BusinessMetricsSettings
    sdk: MainAPIClient
    collector: Periodic = field(init=False)
    after_collect: list[AfterCollect] = field(default_factory=list)
    sources: dict[str, SourceStatus] = field(default_factory=dict)
    scrapes: dict[str, ScrapeState] = field(default_factory=dict)
    last_round_at: datetime | None = None
    last_round_seconds: float | None = None

    def source(self, name: str) -> SourceStatus:
        """The status entry of a source, created at its first read."""
        status = self.sources.get(name)
        if status is None:
            status = self.sources[name] = SourceStatus(name)
        return status

    async def close(self) -> None:
        """Stop the collector (a round in progress unwinds first)."""
        if hasattr(self, "collector"):
            await self.collector.stop()


AfterCollect = Callable[[BusinessMetrics, datetime], Awaitable[None]]
"""A hook run after each collection round with the round's time (H3's SLA check, H4's daily report)."""
