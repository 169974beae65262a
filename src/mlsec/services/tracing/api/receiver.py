"""`POST /v1/traces`: the OTLP/HTTP trace receiver (protobuf or JSON, gzip or not)."""

from fastapi import APIRouter, Request, Response

from mlsec.services.tracing.dependencies import TracingDep
from mlsec.services.tracing.schemas.receiver import REQUEST_BODY, RESPONSES
from mlsec.services.tracing.service import receiver
from mlsec.services.tracing.service.otlp import Encoding, encoding_of

router = APIRouter(tags=["tracing"])


@router.post("/v1/traces", openapi_extra=REQUEST_BODY, responses=RESPONSES, response_class=Response, status_code=200)
async def create_traces(request: Request, tracing: TracingDep) -> Response:
    """Store an OTLP `ExportTraceServiceRequest`; answered once its spans are committed."""
    encoding = encoding_of(request.headers.get("content-type"))
    if encoding is None:
        answer = receiver.refusal(
            415, receiver.INVALID_ARGUMENT, "use application/x-protobuf or application/json", Encoding.JSON
        )
        return _response(answer)
    limit = tracing.settings.max_request_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _response(receiver.too_large(limit, encoding))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return _response(receiver.too_large(limit, encoding))
    encodings = request.headers.get("content-encoding", "identity").strip().lower()
    if encodings not in ("gzip", "identity", ""):
        answer = receiver.refusal(415, receiver.INVALID_ARGUMENT, "Content-Encoding: gzip or none", encoding)
        return _response(answer)
    return _response(await receiver.receive(tracing, bytes(body), encoding, gzipped=encodings == "gzip"))


def _response(answer: receiver.Answer) -> Response:
    return Response(answer.body, status_code=answer.status, media_type=answer.encoding.value, headers=answer.headers)
