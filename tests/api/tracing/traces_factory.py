"""Traces shaped like the platform's, as the dicts `conftest.ingest` sends, and the figures the query tests
expect of them, computed here from the same numbers (never read back from the service)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.tracing.conftest import new_span_id, new_trace_id, now_us

MINUTE_US = 60_000_000


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_us(value: str) -> int:
    """An answer's ISO 8601 time as microseconds since the epoch, exactly."""
    return (datetime.fromisoformat(value) - EPOCH) // timedelta(microseconds=1)


@dataclass
class Built:
    """One trace: its id, its spans (dicts) and the numbers a test checks against."""

    trace_id: str
    start_us: int
    duration_ms: int
    spans: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(span.get("status") == "error" for span in self.spans)


def prediction(
    *,
    minutes_ago: float,
    total_ms: int,
    error: bool = False,
    route: str = "/predict",
    model: str = "ham-spam",
    request_id: str | None = None,
) -> Built:
    """A prediction through the gateway: gateway (SERVER, root) -> model-cache (SERVER) -> mlsec.predict
    (INTERNAL) -> model.predict and prediction_log.record; the root lasts `total_ms` (at least 20)."""
    trace_id, ids = new_trace_id(), [new_span_id() for _ in range(5)]
    start = now_us() - int(minutes_ago * MINUTE_US)
    status = "error" if error else "ok"
    root_attrs: dict[str, Any] = {"http.route": route, "http.request.method": "POST"}
    if request_id:
        root_attrs["mlsec.request_id"] = request_id
    if error:
        root_attrs["error.type"] = "ModelError"
    model_attrs = {"mlsec.model.name": model, "mlsec.model.version": "3"}
    shape = [  # (service, name, kind, parent index, offset ms, duration ms, status, attributes)
        ("gateway", f"POST /api/model-cache{route}", "server", None, 0, total_ms, status, root_attrs),
        ("model-cache", route, "server", 0, 1, total_ms * 8 // 10, status, {"http.route": route}),
        ("model-cache", "mlsec.predict", "internal", 1, 2, total_ms // 2, "unset", model_attrs),
        ("model-cache", "model.predict", "internal", 2, 3, total_ms // 4, "unset", model_attrs),
        ("model-cache", "prediction_log.record", "internal", 2, 3 + total_ms // 4, 1, "unset", {}),
    ]
    built = Built(trace_id=trace_id, start_us=start, duration_ms=total_ms)
    for index, (service, name, kind, parent, offset, duration, state, attributes) in enumerate(shape):
        span: dict[str, Any] = {
            "trace_id": trace_id,
            "span_id": ids[index],
            "parent": None if parent is None else ids[parent],
            "service": service,
            "name": name,
            "kind": kind,
            "start": start + offset * 1000,
            "duration_ms": duration,
            "status": state,
            "attributes": attributes,
        }
        if state == "error":
            span["status_message"] = "model failed"
        built.spans.append(span)
    return built


def job(*, minutes_ago: float, total_ms: int, job_id: str) -> Built:
    """A training job's one span (SERVER, root) on the training service."""
    trace_id = new_trace_id()
    start = now_us() - int(minutes_ago * MINUTE_US)
    span = {
        "trace_id": trace_id,
        "span_id": new_span_id(),
        "parent": None,
        "service": "training",
        "name": "POST /training/jobs",
        "kind": "server",
        "start": start,
        "duration_ms": total_ms,
        "status": "ok",
        "attributes": {"mlsec.job.id": job_id, "http.route": "/training/jobs"},
    }
    return Built(trace_id=trace_id, start_us=start, duration_ms=total_ms, spans=[span])


def all_spans(traces: list[Built]) -> list[dict[str, Any]]:
    return [span for trace in traces for span in trace.spans]


def quantiles_ms(values: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 by linear interpolation between ranks (the statistics module's inclusive method)."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return round(cuts[49], 3), round(cuts[94], 3), round(cuts[98], 3)
