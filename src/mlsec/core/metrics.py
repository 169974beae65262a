"""Prometheus metrics of one service: requests, latency and errors per route.

Each app gets its own registry, so several apps can live in one process (tests) without clashing,
and `/metrics` shows exactly one service.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.process_collector import ProcessCollector

M = TypeVar("M", bound=MetricWrapperBase)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServiceMetrics:
    """The HTTP metrics every service exports, in a registry of its own."""

    def __init__(self, service: str):
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        labels = ("method", "route", "status")
        self.requests = Counter("mlsec_http_requests_total", "HTTP requests served.", labels, registry=self.registry)
        self.errors = Counter(
            "mlsec_http_errors_total",
            "HTTP requests answered with a 4xx or 5xx status.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "mlsec_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "mlsec_http_requests_in_progress", "HTTP requests being served.", registry=self.registry
        )
        self.info = Gauge("mlsec_service_info", "Service identity.", ("service", "version"), registry=self.registry)
        self._requests = Series(self.requests)
        self._errors = Series(self.errors)
        self._latency = Series(self.latency)

    def observe(self, *, method: str, route: str, status: int, seconds: float) -> None:
        """Record one finished request."""
        code = str(status)
        self._requests(method, route, code).inc()
        self._latency(method, route).observe(seconds)
        if status >= 400:
            self._errors(method, route, code).inc()

    def render(self) -> bytes:
        """The registry in the Prometheus text exposition format."""
        return generate_latest(self.registry)


class Series(Generic[M]):
    """The labelled series of one metric, looked up once per label values: `labels()` validates, locks and
    builds a key on every call, a few microseconds that every request paid several times over. The same
    series as `metric.labels(*values)`, so names and labels are unchanged; there are as many entries as
    the metric has series (label values are route templates and status codes, never raw URLs)."""

    def __init__(self, metric: M):
        self.metric = metric
        self._children: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self.metric.labels(*values)
        return child
