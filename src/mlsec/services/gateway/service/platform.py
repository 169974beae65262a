"""The platform-wide views: every service's health with an overall score, the dashboard, every service's
metrics, the model and security overviews.

Each view asks the services through the SDK's per-service clients, concurrently; a part that fails is named in
the answer's `unavailable` list (with its error) instead of failing the whole view.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from mlsec.client import MainAPIClient, ServiceCallError, ServiceClient, service_name
from mlsec.client.base import json_object
from mlsec.core.events import Event, EventHub
from mlsec.core.http import PROBE_EXTENSIONS
from mlsec.services.gateway.schemas.platform import (
    Dashboard,
    DashboardOverview,
    Detections,
    GatewayHealth,
    GatewayRead,
    ModelsOverview,
    PlatformHealth,
    PlatformMetrics,
    SecurityOverview,
    ServiceHealth,
    ServiceMetrics,
    Unavailable,
)
from mlsec.services.gateway.service.metrics_text import prediction_counts, request_counts

SECURITY_SERVICES = ("analytics", "data-privacy", "tracing")
DASHBOARD_EVENTS = 50


async def get_service_health(sdk: MainAPIClient, name: str) -> ServiceHealth:
    """One service's readiness: healthy (ready), degraded (up, a dependency down) or unreachable."""
    service = service_name(name)
    client = sdk.clients[service]
    started = time.perf_counter()
    entry: dict[str, Any] = {"service": service, "url": client.base_url}
    try:
        if isinstance(client, ServiceClient):
            # A probe sees the service as it is now: past its circuit breaker, without retries.
            response = await client.forward("GET", "/health/ready", operation="health", extensions=PROBE_EXTENSIONS)
            body = json_object(response)
            entry["status"] = "healthy" if response.status_code == 200 else "degraded"
            if response.status_code != 200:
                entry["error"] = str(body.get("message") or f"HTTP {response.status_code}")
            entry["checks"] = body.get("checks") or body.get("details", {}).get("checks")
        else:
            response = await client.forward("GET", "/health", operation="health", extensions=PROBE_EXTENSIONS)
            entry["status"] = "healthy" if response.status_code == 200 else "degraded"
    except ServiceCallError as exc:
        entry["status"] = "unreachable"
        entry["error"] = str(exc)
    entry["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    entry["circuit"] = sdk.circuit_state(service)
    return ServiceHealth.model_validate(entry)


async def get_platform_health(sdk: MainAPIClient) -> PlatformHealth:
    """Every service concurrently, with an overall score: the share of services fully healthy (0-100)."""
    results = await asyncio.gather(*(get_service_health(sdk, name) for name in sdk.clients))
    healthy = sum(entry.status == "healthy" for entry in results)
    reachable = sum(entry.status != "unreachable" for entry in results)
    status: Literal["healthy", "degraded", "unhealthy"]
    if healthy == len(results):
        status = "healthy"
    elif reachable:
        status = "degraded"
    else:
        status = "unhealthy"
    return PlatformHealth(
        status=status,
        overall_score=round(100.0 * healthy / len(results), 1),
        healthy=healthy,
        total=len(results),
        services={entry.service: entry for entry in results},
        timestamp=datetime.now(UTC),
    )


async def get_gateway_health(sdk: MainAPIClient, version: str) -> GatewayHealth:
    """The platform's health plus the gateway's own part (`GET /health`)."""
    health = await get_platform_health(sdk)
    gateway = GatewayRead(service="gateway", status="healthy", version=version)
    return GatewayHealth(**_set_fields(health), gateway=gateway)


async def get_dashboard_overview(sdk: MainAPIClient) -> DashboardOverview:
    """Health, served models, cache state, recent training jobs and the registry, in one concurrent round."""
    return DashboardOverview(**await _dashboard_parts(sdk))


async def get_dashboard(sdk: MainAPIClient, hub: EventHub | None) -> Dashboard:
    """The overview plus the latest live events (what the web dashboard opens with)."""
    parts = await _dashboard_parts(sdk)
    recent = hub.recent(limit=DASHBOARD_EVENTS) if hub is not None else []
    # Each event whole: validated from its dump, so every field counts as set (the answer leaves out unset ones).
    return Dashboard(**parts, events=[Event.model_validate(event.model_dump()) for event in recent])


async def get_all_metrics(sdk: MainAPIClient) -> PlatformMetrics:
    """Every mlsec service's request counts, errors and predictions, read from its Prometheus `/metrics`."""
    services = {name: client for name, client in sdk.clients.items() if isinstance(client, ServiceClient)}
    texts, unavailable = await _gather({name: client.get_metrics() for name, client in services.items()})
    summary: dict[str, ServiceMetrics] = {}
    for name in services:
        text = texts.get(name)
        if isinstance(text, str):
            requests = request_counts(text)
            summary[name] = ServiceMetrics(
                requests=requests["requests"],
                server_errors=requests["server_errors"],
                predictions=_by_model(prediction_counts(text)),
            )
    return PlatformMetrics(services=summary, unavailable=unavailable, timestamp=datetime.now(UTC))


async def get_models_overview(sdk: MainAPIClient) -> ModelsOverview:
    """The registry (versions, aliases), what the model API and the cache have loaded, and recent jobs."""
    parts, unavailable = await _gather(
        {
            "registry": sdk.training.get_model_registry(),
            "model_api": sdk.model_api.get_models(),
            "model_cache": sdk.model_cache.get_models(),
            "cache_stats": sdk.model_cache.get_stats(),
            "training_jobs": sdk.training.get_training_jobs(limit=20),
        }
    )
    return ModelsOverview(**parts, unavailable=unavailable, timestamp=datetime.now(UTC))


async def get_security_overview(sdk: MainAPIClient) -> SecurityOverview:
    """Detections per model and label (from the serving services' counters) and the health of the security
    services (analytics, data privacy, tracing)."""
    metrics = _gather(
        {"model_api_metrics": sdk.model_api.get_metrics(), "model_cache_metrics": sdk.model_cache.get_metrics()}
    )
    (texts, unavailable), health = await asyncio.gather(
        metrics, asyncio.gather(*(get_service_health(sdk, name) for name in SECURITY_SERVICES))
    )
    counts: Counter[tuple[str, str]] = Counter()
    for text in texts.values():
        if isinstance(text, str):
            counts.update(prediction_counts(text))
    return SecurityOverview(
        detections=_detections(counts),
        services={entry.service: entry for entry in health},
        unavailable=unavailable,
        timestamp=datetime.now(UTC),
    )


async def _dashboard_parts(sdk: MainAPIClient) -> dict[str, Any]:
    parts, unavailable = await _gather(
        {
            "health": get_platform_health(sdk),
            "models": sdk.model_api.get_models(),
            "cache": sdk.model_cache.get_stats(),
            "training_jobs": sdk.training.get_training_jobs(limit=10),
            "registry": sdk.training.get_model_registry(),
        }
    )
    return {**parts, "unavailable": unavailable, "timestamp": datetime.now(UTC)}


async def _gather(calls: Mapping[str, Awaitable[Any]]) -> tuple[dict[str, Any], list[Unavailable]]:
    """Run the calls concurrently: the answers of those that succeeded, and the failed ones with their error."""
    names = list(calls)
    results = await asyncio.gather(*calls.values(), return_exceptions=True)
    parts: dict[str, Any] = {}
    unavailable: list[Unavailable] = []
    for name, result in zip(names, results, strict=True):
        if isinstance(result, ServiceCallError):
            unavailable.append(Unavailable(part=name, error=str(result)))
        elif isinstance(result, BaseException):
            raise result
        else:
            parts[name] = result
    return parts, unavailable


def _detections(counts: Mapping[tuple[str, str], int]) -> dict[str, Detections]:
    """(model, label) -> count as one entry per model, with the share flagged (label `1`)."""
    by_label: dict[str, dict[str, int]] = _by_model(counts)
    detections: dict[str, Detections] = {}
    for model, labels in by_label.items():
        total = sum(labels.values())
        flagged = labels.get("1", 0)
        detections[model] = Detections(
            predictions=total,
            by_label=labels,
            flagged=flagged,
            flagged_rate=round(flagged / total, 4) if total else 0.0,
        )
    return detections


def _by_model(counts: Mapping[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = {}
    for (model, label), count in sorted(counts.items()):
        nested.setdefault(model, {})[label] = count
    return nested


def _set_fields(model: PlatformHealth) -> dict[str, Any]:
    """The fields of a model that were set, by name (so that a copy leaves out what the original left out)."""
    return {name: getattr(model, name) for name in model.model_fields_set}
