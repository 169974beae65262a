"""OpenTelemetry: a tracer provider per service, one server span per request.

Spans are exported over OTLP/HTTP protobuf to the tracing service by default, or to
`OTEL_EXPORTER_OTLP_ENDPOINT` when set (a collector, Jaeger), batched off the request path
(`mlsec.core.trace_export`); with `MLSEC_TRACE_EXPORT=false` trace context is still created and
propagated, so request ids and trace ids line up across services. The receiver's own path
(`POST /v1/traces`) gets no span: tracing an ingest would export a span per export, forever.

The request span comes from `TracingMiddleware`, ours, rather than OpenTelemetry's ASGI instrumentation
or FastAPI's built-in telemetry. Either of those costs about 0.3 ms of CPU per request (measured in the
gateway, whose whole relay of a prediction costs about 0.55 ms without one): they collect a dozen
attributes per request, parse and redact the URL and wrap every ASGI message. Ours records what an
operator reads a trace for (method, route, status, duration) and nothing a request may carry about a
person: no query string, no client address, no user agent, and an exception's type but never its text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlsec.core.settings import Settings
from mlsec.core.trace_export import OTLP_TRACES_PATH, create_export_processor

PROBE_PATHS = ("/health", "/metrics")
"""Probes get no span (and are logged at DEBUG, see `mlsec.core.middleware`): they would drown real traffic."""
STATIC_PATH = "/static/"
"""The dashboard's files (the gateway's): a page load would add a dozen spans that say nothing about the platform."""
UNTRACED_PATHS = (*PROBE_PATHS, OTLP_TRACES_PATH, STATIC_PATH)
"""Paths without a span: the probes, the trace receiver (each export would be traced and exported again) and the
dashboard's static files."""
FASTAPI_TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
"""For `FastAPI(telemetry=...)`: FastAPI's own telemetry off. `TracingMiddleware` traces each request once
(a second layer would double the spans and their cost); request metrics are Prometheus's (`mlsec.core.metrics`)."""
TRACER_NAME = "mlsec.http"


def setup_telemetry(
    app: FastAPI, settings: Settings, service: str, *, registry: CollectorRegistry | None = None
) -> TracerProvider:
    """Give the app its tracer provider (`app.state.tracer_provider`, for the spans a service adds), its
    export (counted in `registry`, the service's `/metrics`) and request spans; the first provider of the
    process also becomes the global one (any instrumentation a user adds).

    Call it after adding the app's other middleware: the tracing middleware must be the outermost, so the
    request's span covers (and is current in) everything else. Shut the provider down when the app stops:
    that sends the last spans, within a short deadline."""
    provider = TracerProvider(resource=Resource.create({"service.name": service, "service.version": settings.version}))
    processor = create_export_processor(settings, registry if registry is not None else CollectorRegistry())
    if processor is not None:
        provider.add_span_processor(processor)
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(provider)
    app.state.tracer_provider = provider
    app.add_middleware(TracingMiddleware, tracer=provider.get_tracer(TRACER_NAME, settings.version))
    return provider


class TracingMiddleware:
    """One SERVER span per HTTP request or WebSocket connection, current while the app handles it.

    The parent is the caller's trace context (W3C `traceparent`, through the global propagator), so a
    request relayed by the gateway continues the gateway's trace. The span starts named after the method
    and is renamed after the matched route template by the request middleware (`name_span_after_route`),
    never after the raw URL; a request matched before it arrives here (a lane, `mlsec.core.lanes`) starts
    with that name and `http.route` already, the same span at less cost. A 5xx answer or an exception marks it
    as an error with `error.type`.
    """

    def __init__(self, app: ASGIApp, *, tracer: Tracer):
        self.app = app
        self.tracer = tracer
        # The headers the propagator reads (traceparent, tracestate, baggage), as the bytes ASGI gives them.
        self.context_headers = frozenset(name.encode("latin-1") for name in propagate.get_global_textmap().fields)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"].startswith(UNTRACED_PATHS):
            await self.app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in self.context_headers
        }
        parent = propagate.extract(carrier) if carrier else None
        is_http = scope["type"] == "http"
        attributes = {"url.path": scope["path"], "url.scheme": scope.get("scheme", "http")}
        name = scope["path"]
        if is_http:
            name = attributes["http.request.method"] = scope["method"]
            if (route := route_template(scope)) is not None:  # matched ahead of us (a lane): named at once
                name = f"{name} {route}"
                attributes["http.route"] = route
        span = self.tracer.start_span(name, context=parent, kind=SpanKind.SERVER, attributes=attributes)
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        status = 0
        failed = False

        async def send_traced(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_traced if is_http else send)
        except BaseException as exc:
            # The type only: an exception's text may quote the request, and so a person.
            _mark_failed(span, type(exc).__qualname__)
            failed = True
            raise
        finally:
            if status:
                span.set_attribute("http.response.status_code", status)
                if status >= 500 and not failed:
                    _mark_failed(span, str(status))
            otel_context.detach(token)
            span.end()


def _mark_failed(span: trace.Span, error_type: str) -> None:
    span.set_status(Status(StatusCode.ERROR))
    span.set_attribute("error.type", error_type)


def route_template(scope: Scope) -> str | None:
    """The path template of the route a request matched (`scope["route"]`, set by the router or a lane), if any."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else None


def name_span_after_route(method: str, route: str) -> None:
    """Name the current request span `METHOD /route/{template}` and set `http.route`, as OpenTelemetry's
    semantic conventions ask, once the route is known."""
    span = trace.get_current_span()
    if span.is_recording():
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)


SpanValue = str | int | float | bool | None


def annotate_span(attributes: Mapping[str, SpanValue]) -> None:
    """Set a domain's ids (`mlsec.job.id`, `mlsec.check.id`, ...) on the current span, the request's, so a trace
    is found by the job, check or promotion it served; None values are left out, and nothing is done when the
    span does not record. Ids only: never a person's data or a text."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes({key: value for key, value in attributes.items() if value is not None})


def current_trace_id() -> str | None:
    """The id (32 hex digits) of the sampled trace the current span belongs to, to store beside what it made (a
    prediction-log record, an alert); None outside a trace, or in one sampled out (it is stored nowhere)."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid or not context.trace_flags.sampled:
        return None
    return format(context.trace_id, "032x")


@contextmanager
def background_span(name: str) -> Iterator[trace.Span]:
    """A root span, current while it runs, for work no request started (a scheduled check): the ids it sets
    (`annotate_span`), the alerts it raises and the calls it makes join its trace. From the process's provider,
    the service's own when deployed (one service a process). An exception marks it with its type, never its text."""
    tracer = trace.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(
        name, kind=SpanKind.INTERNAL, record_exception=False, set_status_on_exception=False
    ) as span:
        try:
            yield span
        except BaseException as exc:
            _mark_failed(span, type(exc).__qualname__)
            raise
