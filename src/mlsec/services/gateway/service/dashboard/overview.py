"""The overview page: every service's health and circuit, live prediction figures, champions, open alerts and the
platform's recent events."""

from __future__ import annotations

from typing import Any

from mlsec.services.gateway.service import platform
from mlsec.services.gateway.service.dashboard.pages import Page, View, gather_parts, part

EVENTS_SHOWN = 30


async def services(view: View) -> dict[str, Any]:
    """Every service the gateway checks, and the gateway itself (which is answering this very request)."""
    health = (await platform.get_platform_health(view.sdk)).model_dump(mode="json")
    health["services"]["gateway"] = {"status": "healthy", "circuit": "-", "latency_ms": 0.0, "error": None}
    health["healthy"] += 1
    health["total"] += 1
    return {"health": health}


async def champions(view: View) -> dict[str, Any]:
    return {"registry": await part(view.sdk.training.get_model_registry())}


async def alerts(view: View) -> dict[str, Any]:
    return {"alerts": await part(view.sdk.analytics.get_drift_alerts(status="open", limit=10))}


async def events(view: View) -> dict[str, Any]:
    recent = view.ctx.hub.recent(limit=EVENTS_SHOWN) if view.ctx.hub is not None else []
    shown = [event.model_dump(mode="json") for event in reversed(recent)]  # newest first
    return {"events": shown}


async def errors(view: View) -> dict[str, Any]:
    metrics = await platform.get_all_metrics(view.sdk)
    requests = sum(service.requests for service in metrics.services.values())
    failed = sum(service.server_errors for service in metrics.services.values())
    return {"requests": requests, "server_errors": failed, "error_rate": failed / requests if requests else 0.0}


async def load(view: View) -> dict[str, Any]:
    return await gather_parts(view, services, champions, alerts, events, errors)


PAGE = Page(
    name="overview",
    title="Overview",
    load=load,
    partials={"services": services, "champions": champions, "alerts": alerts, "events": events, "errors": errors},
    topics=("health", "predictions", "alerts", "drift", "training", "promotions", "models", "events"),
)
