"""OpenTelemetry setup hook: a tracer provider per service, spans for every request.

Spans are exported over OTLP/HTTP when an endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT`,
in embedded mode the tracing service); without one, trace context is still created and
propagated, so request ids and trace ids line up across services.
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from mlsec.core.settings import Settings

EXCLUDED_URLS = "health,metrics"


def setup_telemetry(app: FastAPI, settings: Settings, service: str) -> TracerProvider:
    """Instrument the app; the first provider of the process also becomes the global one."""
    provider = TracerProvider(resource=Resource.create({"service.name": service, "service.version": settings.version}))
    if settings.otel_exporter_otlp_endpoint:
        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(provider)
    # One span per request; not one more per ASGI message sent or received (per WebSocket frame, too).
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls=EXCLUDED_URLS, exclude_spans=["receive", "send"]
    )
    return provider
