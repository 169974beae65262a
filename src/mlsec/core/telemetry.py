"""OpenTelemetry setup hook: a tracer provider per service, spans for every request.

Spans are exported over OTLP/HTTP when an endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT`,
in embedded mode the tracing service); without one, trace context is still created and
propagated, so request ids and trace ids line up across services.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from mlsec.core.settings import Settings

EXCLUDED_URLS = "health,metrics"


def setup_telemetry(app: FastAPI, settings: Settings, service: str) -> TracerProvider:
    """Instrument the app; the first provider of the process also becomes the global one.

    Call it after adding the app's other middleware: the tracing middleware must be the outermost, so the
    request's span covers (and is current in) everything else."""
    provider = TracerProvider(resource=Resource.create({"service.name": service, "service.version": settings.version}))
    if settings.otel_exporter_otlp_endpoint:
        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(provider)
    # One span per request; not one more per ASGI message sent or received (per WebSocket frame, too).
    app.add_middleware(
        OpenTelemetryMiddleware,
        tracer_provider=provider,
        excluded_urls=EXCLUDED_URLS,
        exclude_spans=["receive", "send"],
        default_span_details=_first_span_name,
    )
    return provider


def _first_span_name(scope: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The request span's name before routing: its method (a WebSocket: its path).

    FastAPI's instrumentation names the span by matching every route against the request first, a second
    routing pass per request (8% of the gateway's CPU, with its hundreds of relayed routes). Instead the
    request middleware names the span after the route that routing found (`name_span_after_route`)."""
    return str(scope.get("method") or scope.get("path", "")), {}


def name_span_after_route(method: str, route: str) -> None:
    """Name the current request span `METHOD /route/{template}` and set `http.route`, as OpenTelemetry's
    semantic conventions ask, once the route is known."""
    span = trace.get_current_span()
    if span.is_recording():
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
