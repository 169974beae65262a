"""The tracing service's errors, in the platform's error envelope (the receiver answers OTLP's own
`google.rpc.Status` instead, see `api/receiver.py`)."""

from __future__ import annotations

from mlsec.core.errors import NotFoundError, ServiceUnavailableError


class TraceNotFoundError(NotFoundError):
    def __init__(self, trace_id: str):
        super().__init__(f"no trace {trace_id}", details={"trace_id": trace_id})


class SpanNotFoundError(NotFoundError):
    def __init__(self, trace_id: str, span_id: str):
        super().__init__(f"no span {span_id} in trace {trace_id}", details={"trace_id": trace_id, "span_id": span_id})


class ServiceNotFoundError(NotFoundError):
    def __init__(self, service: str):
        super().__init__(f"no spans from service {service!r}", details={"service": service[:128]})


class BacklogFullError(ServiceUnavailableError):
    """The ingest backlog has no room for a request's spans: the exporter should retry later."""

    def __init__(self, pending: int, limit: int):
        super().__init__(
            f"the ingest backlog is full ({pending} of {limit} spans waiting, MLSEC_TRACING_MAX_PENDING_SPANS)",
            details={"pending_spans": pending, "max_pending_spans": limit},
        )


class IngestFailedError(ServiceUnavailableError):
    """The spans could not be committed (the database refused or is down); nothing of the request was stored."""

    def __init__(self) -> None:
        super().__init__("the spans could not be stored; retry later")
