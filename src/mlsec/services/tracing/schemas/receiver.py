"""OTLP/HTTP shapes, for the OpenAPI document: the JSON encoding of the request the receiver takes and of its
answers (the protobuf encoding carries the same messages, opentelemetry-proto's). Field names are OTLP JSON's
(lowerCamelCase); trace and span ids are hex; 64-bit integers are decimal strings (or JSON numbers)."""

from __future__ import annotations

from typing import Any

EXPORT_REQUEST: dict[str, Any] = {
    "title": "ExportTraceServiceRequest",
    "type": "object",
    "description": "OTLP JSON: resourceSpans[].scopeSpans[].spans[], trace and span ids in hex.",
    "properties": {  # protobuf's JSON mapping reads a null field as its default
        "resourceSpans": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {
                    "resource": {"type": ["object", "null"]},
                    "scopeSpans": {"type": ["array", "null"], "items": {"type": "object"}},
                },
            },
        }
    },
}
EXPORT_RESPONSE: dict[str, Any] = {
    "title": "ExportTraceServiceResponse",
    "type": "object",
    "description": "Empty when every span was stored; else how many were refused and why.",
    "properties": {
        "partialSuccess": {
            "type": "object",
            "properties": {
                "rejectedSpans": {"type": "string", "description": "Spans refused (int64: a decimal string)."},
                "errorMessage": {"type": "string", "description": "Each reason with its count."},
            },
        }
    },
}
STATUS: dict[str, Any] = {
    "title": "Status",
    "type": "object",
    "description": "google.rpc.Status: the body of a refused request.",
    "properties": {
        "code": {"type": "integer", "description": "gRPC code: 3 invalid argument, 8 too large, 14 unavailable."},
        "message": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object"}},
    },
}
_BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}


def _both(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}, "application/x-protobuf": _BINARY}


REQUEST_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": _both(EXPORT_REQUEST)}}
"""`openapi_extra` of the receiver, which reads its body itself (two encodings, gzip or not)."""
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Stored; a partial success names the refused spans.", "content": _both(EXPORT_RESPONSE)},
    400: {"description": "Not an OTLP trace export request.", "content": _both(STATUS)},
    413: {"description": "Over MLSEC_TRACING_MAX_REQUEST_BYTES (compressed or not).", "content": _both(STATUS)},
    415: {
        "description": "Neither application/x-protobuf nor application/json, or an encoding other than gzip.",
        "content": _both(STATUS),
    },
    503: {
        "description": "The ingest backlog is full or the store is down: retry after Retry-After seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}},
        "content": _both(STATUS),
    },
}
