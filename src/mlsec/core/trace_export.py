"""Sending a service's spans to the tracing service (or an OTLP collector), never in a request's way.

`ExportingSpanProcessor` puts each finished span in a bounded queue and returns; one thread sends the queue
in batches through an exporter (OTLP/HTTP protobuf). A span is dropped, and counted
(`mlsec_trace_spans_dropped_total{reason}`), when the queue is full (`queue_full`), when its batch could not
be sent (`export_failed`: the receiver is down, slow or refused it) or when the service stops before it was
sent (`shutdown`). After a failure the thread waits before it tries again, doubling the wait up to a
ceiling, so a receiver that is down is asked once per wait, not once per batch; spans keep queueing meanwhile
(dropped once the queue is full), and the first batch that goes through resumes the normal pace.

Why not OpenTelemetry's `BatchSpanProcessor`: it counts its drops only through the SDK's private metrics
(an OpenTelemetry meter, not our Prometheus registry), logs a warning for every span it drops, and retries
a receiver that is down at the pace of the batches. The exporter is OpenTelemetry's own.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Sequence

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from prometheus_client import CollectorRegistry, Counter, Gauge

from mlsec.core.service_token import SERVICE_TOKEN_HEADER, load_service_token
from mlsec.core.settings import Settings

OTLP_TRACES_PATH = "/v1/traces"
"""The OTLP/HTTP path of spans; the tracing service's receiver. Never traced itself (no span per ingest)."""
BATCH_SIZE = 512
SCHEDULE_DELAY = 1.0
"""Seconds a partial batch waits for more spans before it is sent anyway."""
BACKOFF_INITIAL = 1.0
BACKOFF_MAX = 30.0
SHUTDOWN_DEADLINE = 2.0
"""Seconds the last spans get to leave at shutdown; a receiver that is down must not hold a service's stop."""
logger = logging.getLogger("mlsec.trace_export")


def export_endpoint(settings: Settings) -> str | None:
    """Where this service's spans go: `OTEL_EXPORTER_OTLP_ENDPOINT` (a collector, Jaeger) when set, else the
    tracing service's receiver; None when export is off (`MLSEC_TRACE_EXPORT=false`)."""
    if not settings.trace_export:
        return None
    base = settings.otel_exporter_otlp_endpoint or settings.url_for("tracing")
    base = base.rstrip("/")
    return base if base.endswith(OTLP_TRACES_PATH) else base + OTLP_TRACES_PATH


class ExportMetrics:
    """The export's Prometheus series, in the service's registry (its `/metrics`)."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.exported = Counter(
            "mlsec_trace_spans_exported_total", "Spans sent to the trace receiver.", registry=registry
        )
        self.dropped = Counter(
            "mlsec_trace_spans_dropped_total",
            "Spans never sent: queue_full, export_failed (receiver down or refusing) or shutdown.",
            ("reason",),
            registry=registry,
        )
        self.queue_full = self.dropped.labels("queue_full")  # the series on_end counts, looked up once
        self.queued = Gauge("mlsec_trace_export_queue", "Spans waiting to be sent.", registry=registry)
        self.receiver_up = Gauge(
            "mlsec_trace_export_up", "1 while the last export succeeded (or none was tried), else 0.", registry=registry
        )
        self.receiver_up.set(1)


class ExportingSpanProcessor(SpanProcessor):
    """A bounded queue of finished spans, sent in batches by one thread with a backoff after failures."""

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        metrics: ExportMetrics,
        max_queue: int = 2048,
        batch_size: int = BATCH_SIZE,
        schedule_delay: float = SCHEDULE_DELAY,
        backoff_initial: float = BACKOFF_INITIAL,
        backoff_max: float = BACKOFF_MAX,
    ):
        self.exporter = exporter
        self.metrics = metrics
        self.max_queue = max_queue
        self.batch_size = min(batch_size, max_queue)
        self.schedule_delay = schedule_delay
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.backoff = 0.0  # seconds waited after the last failure; 0 while the receiver answers
        self._retry_at = 0.0  # time.monotonic() before which no export is tried (while backing off)
        self._queue: collections.deque[ReadableSpan] = collections.deque()
        self._wake = threading.Event()
        self._idle = threading.Event()  # set while nothing is queued or being sent (force_flush waits on it)
        self._idle.set()
        self._stopping = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # --- the request's side: never waits -----------------------------------------------------------------

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Nothing to do when a span starts."""

    def on_end(self, span: ReadableSpan) -> None:
        """Queue a finished, sampled span, or drop and count it when the queue is full; never blocks."""
        if not span.context.trace_flags.sampled:
            return
        if self._stopping.is_set():
            self.metrics.dropped.labels("shutdown").inc()
            return
        if len(self._queue) >= self.max_queue:  # a few over under contention at worst: no lock on this path
            self.metrics.queue_full.inc()
            return
        if self._idle.is_set():  # Event.clear takes a lock: only when it changes anything
            self._idle.clear()
        self._queue.append(span)
        if self._thread is None:
            self._start()
        if len(self._queue) >= self.batch_size and not self._wake.is_set():
            self._wake.set()

    def _start(self) -> None:
        with self._start_lock:  # the thread starts with the first span: an app that traces nothing has none
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mlsec-trace-export", daemon=True)
                self._thread.start()

    # --- the export thread ---------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            # While backing off, sleep until the retry time; once it has passed (or when not backing off) at the
            # normal pace, never 0: with nothing queued after a failure the loop would otherwise spin a core.
            backing_off = self._retry_at - time.monotonic() if self.backoff else 0.0
            self._wake.wait(backing_off if backing_off > 0 else self.schedule_delay)
            self._wake.clear()
            if self._stopping.is_set():
                break
            if self.backoff and time.monotonic() < self._retry_at:
                continue  # a full batch woke us while backing off: the receiver is not asked before its time
            self._drain(deadline=None)

    def _drain(self, *, deadline: float | None) -> None:
        """Send what is queued, batch after batch, until it is empty, an export fails or the deadline passes."""
        while self._queue and (deadline is None or time.monotonic() < deadline):
            batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
            self.metrics.queued.set(len(self._queue))
            if not self._send(batch):
                return
        if not self._queue:
            self._idle.set()

    def _send(self, batch: Sequence[ReadableSpan]) -> bool:
        try:
            result = self.exporter.export(batch)
        except Exception as exc:  # the exporter's own errors count as a failed export, the thread goes on
            logger.warning("trace_export.error", extra={"error_type": type(exc).__name__})
            result = SpanExportResult.FAILURE
        if result is SpanExportResult.SUCCESS:
            self.metrics.exported.inc(len(batch))
            if self.backoff:
                logger.info("trace_export.resumed", extra={"after_s": self.backoff})
                self.backoff = 0.0
                self.metrics.receiver_up.set(1)
            return True
        self.metrics.dropped.labels("export_failed").inc(len(batch))
        if not self.backoff:
            logger.warning("trace_export.receiver_down", extra={"spans": len(batch)})
            self.metrics.receiver_up.set(0)
        self.backoff = min(self.backoff_max, self.backoff * 2 if self.backoff else self.backoff_initial)
        self._retry_at = time.monotonic() + self.backoff
        return False

    # --- flush and shutdown ------------------------------------------------------------------------------

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Ask the thread to send what is queued now; True when everything queued left within the timeout."""
        if self._thread is None:
            return not self._queue
        self._wake.set()
        return self._idle.wait(timeout_millis / 1000)

    def shutdown(self, deadline: float = SHUTDOWN_DEADLINE) -> None:
        """Stop the thread, send what is left within `deadline` seconds (not while the receiver is known to be
        down), and count whatever could not leave as dropped at shutdown."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(deadline)
        if not self.backoff and (self._thread is None or not self._thread.is_alive()):
            self._drain(deadline=time.monotonic() + deadline)
        if left := len(self._queue):
            self._queue.clear()
            self.metrics.dropped.labels("shutdown").inc(left)
        self.metrics.queued.set(0)
        self.exporter.shutdown()


def create_export_processor(settings: Settings, registry: CollectorRegistry | None) -> ExportingSpanProcessor | None:
    """The processor that exports this service's spans as the settings say, or None when export is off."""
    endpoint = export_endpoint(settings)
    if endpoint is None:
        return None
    # The platform's own receiver checks the service token as every service does; a collector of the user's gets none.
    token = None if settings.otel_exporter_otlp_endpoint else load_service_token(settings)
    headers = {SERVICE_TOKEN_HEADER: token} if token else None
    exporter = OTLPSpanExporter(endpoint=endpoint, timeout=settings.trace_export_timeout, headers=headers)
    return ExportingSpanProcessor(exporter, metrics=ExportMetrics(registry), max_queue=settings.trace_export_queue)
