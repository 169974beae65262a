"""One OTLP/HTTP export request, from its body to the answer the specification asks for.

The answer is built here, not in the error envelope: OTLP exporters read a `google.rpc.Status` (400, 413, 503)
or an `ExportTraceServiceResponse` (200, with partial success when some spans were refused), in the encoding
they sent, and retry 503 after `Retry-After`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from mlsec.services.tracing.errors import BacklogFullError, IngestFailedError
from mlsec.services.tracing.service import otlp
from mlsec.services.tracing.service.otlp import Encoding, PayloadError
from mlsec.services.tracing.state import Tracing

logger = logging.getLogger("mlsec.tracing.receiver")
INVALID_ARGUMENT = 3  # gRPC status codes, as google.rpc.Status carries them
RESOURCE_EXHAUSTED = 8
UNAVAILABLE = 14


@dataclass
class Answer:
    """Status code, body and headers of the receiver's answer."""

    status: int
    body: bytes
    encoding: Encoding
    headers: dict[str, str] = field(default_factory=dict)


def refusal(status: int, code: int, message: str, encoding: Encoding, **headers: str) -> Answer:
    """A refused request: a `google.rpc.Status` body in the request's encoding."""
    return Answer(status, otlp.status_body(code, message, encoding), encoding, headers)


def too_large(limit: int, encoding: Encoding) -> Answer:
    return refusal(
        413,
        RESOURCE_EXHAUSTED,
        f"the request body exceeds {limit} bytes (setting MLSEC_TRACING_MAX_REQUEST_BYTES)",
        encoding,
    )


async def receive(tracing: Tracing, body: bytes, encoding: Encoding, *, gzipped: bool) -> Answer:
    """Decode, redact and store a request's spans; answer once they are committed."""
    limit = tracing.settings.max_request_bytes
    try:
        if gzipped:
            body = otlp.inflate(body, limit)
        request = otlp.parse(body, encoding)
    except PayloadError as exc:
        if exc.too_large:
            return too_large(limit, encoding)
        return refusal(400, INVALID_ARGUMENT, str(exc), encoding)
    decoded = otlp.decode(request, tracing.redactor(), tracing.settings.max_events)
    try:
        await tracing.ingester.submit(decoded.rows)
    except (BacklogFullError, IngestFailedError) as exc:
        retry_after = str(tracing.settings.retry_after_s)
        return refusal(503, UNAVAILABLE, exc.message, encoding, **{"Retry-After": retry_after})
    if decoded.rejected:
        logger.info("tracing.spans.refused", extra={"spans": decoded.rejected, "accepted": len(decoded.rows)})
    return Answer(200, otlp.export_response(decoded, encoding), encoding)
