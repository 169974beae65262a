"""`GET /traces/{trace_id}/export`: a trace as OTLP JSON, to open in Jaeger or any OTLP tool."""

from typing import Any

from fastapi import APIRouter

from mlsec.core.openapi import error_responses
from mlsec.services.tracing.dependencies import SessionDep, TraceIdPath
from mlsec.services.tracing.service import export

router = APIRouter(tags=["tracing"])


@router.get("/traces/{trace_id}/export", responses=error_responses(404))
async def get_trace_export(trace_id: TraceIdPath, session: SessionDep) -> dict[str, Any]:
    """The trace's spans as one OTLP JSON `ExportTraceServiceRequest` (hex ids), which `POST /v1/traces` takes back."""
    return await export.get_or_raise(session, trace_id)
