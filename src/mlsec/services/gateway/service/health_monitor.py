"""Service health as live events: poll every service, publish only what changed.

Dashboards and scripts subscribed to the `health` topic of `/ws` learn that a service went down the
moment the gateway sees it, without each of them polling every service. The first successful poll
publishes `health.snapshot` (the whole mapping, so a listener starts from a known state); each later
poll publishes one `health.changed` per service whose status differs from the previous poll, with
`previous` null for a service seen for the first time and `current` null for one no longer reported.
A failing check is logged and counted and the loop goes on: the last known state stays as it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from mlsec.core.background import Periodic

TOPIC = "health"
SNAPSHOT = "health.snapshot"
CHANGED = "health.changed"
MAX_NAME_CHARS = 100
MAX_STATUS_CHARS = 64

CheckFn = Callable[[], Awaitable[dict[str, str]]]
PublishFn = Callable[[str, str, dict[str, Any]], bool]
logger = logging.getLogger("mlsec.gateway.health")


class HealthMonitorMetrics:
    """Polls by outcome and health events published, in the app's registry."""

    def __init__(self, registry: CollectorRegistry):
        polls = Counter(
            "mlsec_gateway_health_polls_total",
            "Health polls of every service, by outcome.",
            ["outcome"],
            registry=registry,
        )
        self.ok = polls.labels("ok")
        self.failed = polls.labels("failed")
        self.events = Counter(
            "mlsec_gateway_health_events_total", "Health events published, by type.", ["type"], registry=registry
        )


class HealthMonitor:
    """Calls `check()` every `interval` seconds and publishes the changes on the `health` topic."""

    def __init__(
        self,
        check: CheckFn,
        publish: PublishFn,
        interval: float,
        *,
        timeout: float | None = None,
        registry: CollectorRegistry | None = None,
    ):
        if interval <= 0:
            raise ValueError("interval must be positive")
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive")
        self._check = check
        self._publish = publish
        self.timeout = timeout or interval  # a check slower than the interval counts as failed
        self.metrics = HealthMonitorMetrics(registry) if registry is not None else None
        self._state: dict[str, str] | None = None
        self._schedule = Periodic("gateway-health-monitor", self.poll, interval=interval, first_at_once=True)
        self.polls = 0
        self.failures = 0
        self.published = 0
        self.publish_failures = 0

    @property
    def interval(self) -> float:
        return self._schedule.interval

    @property
    def current(self) -> dict[str, str]:
        """The statuses of the last successful poll (empty before the first)."""
        return dict(self._state or {})

    def start(self) -> None:
        """Start polling in the background (inside the app's lifespan); the first poll runs at once."""
        self._schedule.start()

    async def close(self) -> None:
        await self._schedule.stop()

    async def poll(self) -> int:
        """Check once and publish what changed; returns the number of events published. Never raises."""
        self.polls += 1
        try:
            async with asyncio.timeout(self.timeout):
                statuses = _validated(await self._check())
        except Exception as exc:  # a failed check must never stop the monitor
            self.failures += 1
            if self.metrics is not None:
                self.metrics.failed.inc()
            logger.warning("gateway.health.check_failed", extra={"error_type": type(exc).__name__})
            return 0
        if self.metrics is not None:
            self.metrics.ok.inc()
        previous, self._state = self._state, statuses
        if previous is None:
            return int(self._emit(SNAPSHOT, {"services": dict(statuses)}))
        published = 0
        for service in sorted(previous.keys() | statuses.keys()):
            before, after = previous.get(service), statuses.get(service)
            if before != after:
                published += self._emit(CHANGED, {"service": service, "previous": before, "current": after})
        return published

    def _emit(self, type_: str, payload: dict[str, Any]) -> bool:
        try:
            accepted = self._publish(TOPIC, type_, payload)
        except Exception as exc:
            logger.warning("gateway.health.publish_failed", extra={"error_type": type(exc).__name__})
            accepted = False
        if not accepted:
            self.publish_failures += 1
            return False
        self.published += 1
        if self.metrics is not None:
            self.metrics.events.labels(type_).inc()
        return True


def _validated(statuses: object) -> dict[str, str]:
    """The check's answer as a plain `{service: status}`; ValueError when it is anything else."""
    if not isinstance(statuses, Mapping):
        raise ValueError("a health check returns a mapping of service name to status")
    result: dict[str, str] = {}
    for name, status in statuses.items():
        if not isinstance(name, str) or not isinstance(status, str):
            raise ValueError("service names and statuses are strings")
        if not 0 < len(name) <= MAX_NAME_CHARS or not 0 < len(status) <= MAX_STATUS_CHARS:
            raise ValueError("a service name or status is empty or too long")
        result[name] = status
    return result


def statuses_from_report(report: Mapping[str, Any]) -> dict[str, str]:
    """Service name -> status from the platform health report (`services.<name>.status`, as `GET /health`)."""
    services = report.get("services")
    if not isinstance(services, Mapping):
        raise ValueError("the health report has no 'services' mapping")
    statuses: dict[str, str] = {}
    for name, entry in services.items():
        status = entry.get("status") if isinstance(entry, Mapping) else None
        statuses[str(name)] = status if isinstance(status, str) else "unknown"
    return statuses


def health_check_from(fetch: Callable[[], Awaitable[Mapping[str, Any]]]) -> CheckFn:
    """A `check` for HealthMonitor from a coroutine that returns the platform health report."""

    async def check() -> dict[str, str]:
        return statuses_from_report(await fetch())

    return check
