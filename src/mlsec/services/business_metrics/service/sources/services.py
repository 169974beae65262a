"""Every service's health and process figures: `/health/ready` says whether it is up, its Prometheus `/metrics`
(parsed with prometheus_client's parser) gives the CPU seconds, resident memory and requests it served.

Counters are turned into deltas against the previous scrape; a counter found smaller than before means the
process restarted, and the delta is then its new value (what the new process did). A service that does not
answer is counted down for the interval since the previous probe.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from prometheus_client.parser import text_string_to_metric_families

from mlsec.client.base import ServiceCallError, ServiceClient
from mlsec.services.business_metrics.service.rollups import ServiceSample, add_service_sample
from mlsec.services.business_metrics.state import BusinessMetrics, ScrapeState

GIB = 1024**3
PREDICTION_ROUTES = frozenset({"/predict", "/invocations"})
"""Routes that serve predictions (with those under /predict/ and the V2 protocol's .../infer); the prediction log
(/predictions/log) is not one."""
COUNTERS = ("cpu_s", "requests", "errors", "prediction_requests", "prediction_errors")
MAX_INTERVAL_INTERVALS = 3
"""A probe covers at most this many collection intervals: a gap in our own rounds is not the service's time."""


def parse_metrics(text: str) -> dict[str, float]:
    """The figures the business metrics need from a Prometheus text page: CPU seconds, resident memory (bytes)
    and HTTP requests, 5xx answers, and both on prediction routes (cumulative counters, as exposed)."""
    figures = dict.fromkeys((*COUNTERS, "memory_bytes"), 0.0)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "process_cpu_seconds_total":
                figures["cpu_s"] += sample.value
            elif sample.name == "process_resident_memory_bytes":
                figures["memory_bytes"] += sample.value
            elif sample.name == "mlsec_http_requests_total":
                server_error = str(sample.labels.get("status", "")).startswith("5")
                prediction = is_prediction_route(str(sample.labels.get("route", "")))
                figures["requests"] += sample.value
                figures["errors"] += sample.value * server_error
                figures["prediction_requests"] += sample.value * prediction
                figures["prediction_errors"] += sample.value * (server_error and prediction)
    return figures


def is_prediction_route(route: str) -> bool:
    return route in PREDICTION_ROUTES or route.startswith("/predict/") or route.endswith("/infer")


def delta(current: float, previous: float | None) -> float:
    """How much a counter grew since the previous scrape; its new value after a reset (a restart)."""
    if previous is None:
        return 0.0
    return current - previous if current >= previous else current


def _client(business: BusinessMetrics, service: str) -> ServiceClient:
    if service == "gateway":
        return business.sdk.gateway
    client = business.sdk.clients[service]
    assert isinstance(client, ServiceClient)
    return client


async def _probe(client: ServiceClient) -> tuple[bool, dict[str, float] | None]:
    """(ready, figures of /metrics or None when unreadable)."""
    try:
        await client.get_health_ready()
    except ServiceCallError:
        return False, None
    try:
        return True, parse_metrics(await client.get_metrics())
    except (ServiceCallError, ValueError):
        return True, None


def _sample(
    business: BusinessMetrics, at: datetime, healthy: bool, figures: dict[str, float] | None, before: ScrapeState | None
) -> ServiceSample:
    limit = business.settings.collect_interval_s * MAX_INTERVAL_INTERVALS
    interval = business.settings.collect_interval_s if before is None else (at - before.at).total_seconds()
    previous = before.counters if before is not None else None
    deltas = {
        name: delta(figures[name], previous.get(name) if previous else None) if figures else 0.0 for name in COUNTERS
    }
    return ServiceSample(
        healthy=healthy,
        interval_s=min(max(interval, 0.0), limit),
        was_healthy=before.healthy if before is not None else None,
        cpu_s=deltas["cpu_s"],
        memory_gib=figures["memory_bytes"] / GIB if figures else 0.0,
        requests=round(deltas["requests"]),
        errors=round(deltas["errors"]),
        prediction_requests=round(deltas["prediction_requests"]),
        prediction_errors=round(deltas["prediction_errors"]),
    )


async def collect(business: BusinessMetrics, services: list[str], at: datetime) -> dict[str, bool]:
    """Probe and scrape the services at once; one rollup sample each. Which were up."""
    probes = await asyncio.gather(*(_probe(_client(business, name)) for name in services))
    async with business.ctx.db.session() as session:
        for name, (healthy, figures) in zip(services, probes, strict=True):
            before = business.scrapes.get(name)
            await add_service_sample(session, name, at, _sample(business, at, healthy, figures, before))
    for name, (healthy, figures) in zip(services, probes, strict=True):
        before = business.scrapes.get(name)
        counters = figures if figures is not None else (before.counters if before else None)
        business.scrapes[name] = ScrapeState(at=at, healthy=healthy, counters=counters)
    return {name: healthy for name, (healthy, _) in zip(services, probes, strict=True)}
