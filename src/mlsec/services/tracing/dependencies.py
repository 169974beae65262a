"""The dependencies tracing routes take: the running service, a database session and the validated ids."""

from typing import Annotated

from fastapi import Depends, Path, Request
from pydantic import AfterValidator

from mlsec.core.app import SessionDep
from mlsec.services.tracing.state import Tracing

__all__ = ["SessionDep", "SpanIdPath", "TraceIdPath", "TracingDep"]

TRACE_ID = r"^[0-9a-fA-F]{32}$"
SPAN_ID = r"^[0-9a-fA-F]{16}$"


async def get_tracing(request: Request) -> Tracing:
    tracing: Tracing = request.app.state.tracing
    return tracing


TracingDep = Annotated[Tracing, Depends(get_tracing)]
TraceIdPath = Annotated[
    str,
    Path(pattern=TRACE_ID, min_length=32, max_length=32, description="A trace id: 32 hex characters."),
    AfterValidator(str.lower),  # stored as OTLP JSON and W3C trace context write it
]
SpanIdPath = Annotated[
    str,
    Path(pattern=SPAN_ID, min_length=16, max_length=16, description="A span id: 16 hex characters."),
    AfterValidator(str.lower),
]
