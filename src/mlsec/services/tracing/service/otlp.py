"""OTLP/HTTP trace payloads in and out: an `ExportTraceServiceRequest` in protobuf or JSON (gzip or not) to the
rows the store keeps, and the answers the OTLP specification asks for (`ExportTraceServiceResponse` with partial
success, `google.rpc.Status` for a refused request) in the request's own encoding.

OTLP JSON is protobuf's JSON mapping with one exception: trace and span ids are hex strings, not base64. The
ids are rewritten to base64 before `json_format` parses the document, and a malformed id becomes an empty one,
so that one span with a bad id is refused on its own (partial success) instead of the whole request.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import DecodeError, Message
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan

from mlsec.services.tracing.service.redaction import Redactor

KINDS = ("internal", "internal", "server", "client", "producer", "consumer")
"""OTLP span kind code to the stored name; UNSPECIFIED is read as INTERNAL, as the specification allows."""
KIND_CODES = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
UNKNOWN_SERVICE = "unknown_service"
MAX_SERVICE = 128
MAX_OPERATION = 256
MAX_STATUS_MESSAGE = 512
_ID_FIELDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")
_ZERO_TRACE = bytes(16)
_ZERO_SPAN = bytes(8)


class Encoding(Enum):
    PROTOBUF = "application/x-protobuf"
    JSON = "application/json"


class PayloadError(ValueError):
    """The body is not an OTLP trace request (400), or inflates past the limit (`too_large`: 413)."""

    def __init__(self, message: str, *, too_large: bool = False):
        super().__init__(message)
        self.too_large = too_large


@dataclass
class Decoded:
    """The rows of the accepted spans and, per reason, how many were refused."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)

    @property
    def rejected(self) -> int:
        return sum(self.refused.values())

    def message(self) -> str:
        """The partial success's `errorMessage`: each reason with its count."""
        return "; ".join(f"{count} span(s): {reason}" for reason, count in sorted(self.refused.items()))


def encoding_of(content_type: str | None) -> Encoding | None:
    """The OTLP encoding a Content-Type names (parameters such as charset ignored), None for another type."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in ("application/x-protobuf", "application/protobuf"):
        return Encoding.PROTOBUF
    if media == "application/json":
        return Encoding.JSON
    return None


def inflate(body: bytes, limit: int) -> bytes:
    """A gzip body decompressed, refused once it passes `limit` bytes (a small bomb must not fill the memory)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise PayloadError("the body is not valid gzip") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise PayloadError(f"the decompressed body exceeds {limit} bytes", too_large=True)
    if not inflater.eof:
        raise PayloadError("the gzip body is truncated")
    return out


def parse(body: bytes, encoding: Encoding) -> trace_service_pb2.ExportTraceServiceRequest:
    """The request message of a protobuf or OTLP JSON body; PayloadError when it is neither."""
    request = trace_service_pb2.ExportTraceServiceRequest()
    try:
        if encoding is Encoding.PROTOBUF:
            request.ParseFromString(body)
        else:
            document = json.loads(body)
            if not isinstance(document, dict):
                raise PayloadError("an OTLP JSON body is an object")
            _check_shape(document, request.DESCRIPTOR)
            _ids_to_base64(document)
            json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (DecodeError, json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        if isinstance(exc, PayloadError):
            raise
        raise PayloadError(f"not an OTLP trace export request ({type(exc).__name__})") from exc
    return request


def _check_shape(node: Any, descriptor: Descriptor) -> None:
    """Refuse a document whose messages are not JSON objects: `json_format` reads a string where a message is
    expected as a list of unknown field names (its characters) and, with unknown fields ignored as OTLP asks,
    would accept `{"resourceSpans": ["AAA"]}` as an empty resource."""
    if not isinstance(node, dict):
        raise PayloadError(f"{descriptor.name} must be a JSON object")
    for key, value in node.items():
        field = descriptor.fields_by_camelcase_name.get(key) or descriptor.fields_by_name.get(key)
        if field is None or field.message_type is None or value is None:
            continue
        if field.is_repeated and not isinstance(value, list):
            raise PayloadError(f"{key} must be a JSON array")
        for item in value if field.is_repeated else [value]:
            _check_shape(item, field.message_type)


def _ids_to_base64(node: Any) -> None:
    """Rewrite OTLP JSON's hex ids, wherever they are, to the base64 protobuf's JSON mapping reads; a malformed
    id becomes empty (its span is then refused alone)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str):
                node[key] = _hex_to_base64(value)
            elif isinstance(value, dict | list):
                _ids_to_base64(value)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                _ids_to_base64(item)


def _hex_to_base64(value: str) -> str:
    try:
        return base64.b64encode(bytes.fromhex(value)).decode()
    except ValueError:
        return ""


def any_value(value: AnyValue) -> Any:
    """An OTLP AnyValue as plain JSON data (bytes as hex)."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "double_value":
        return value.double_value
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return None


def _pairs(attributes: Iterable[KeyValue]) -> list[tuple[str, Any]]:
    return [(kv.key, any_value(kv.value)) for kv in attributes]


def _refusal(span: OtlpSpan) -> str | None:
    """Why a span cannot be stored, or None."""
    if len(span.trace_id) != 16 or span.trace_id == _ZERO_TRACE:
        return "invalid trace id (16 bytes, 32 hex characters, not all zero)"
    if len(span.span_id) != 8 or span.span_id == _ZERO_SPAN:
        return "invalid span id (8 bytes, 16 hex characters, not all zero)"
    if len(span.parent_span_id) not in (0, 8):
        return "invalid parent span id"
    if span.start_time_unix_nano == 0:
        return "no start time"
    if span.end_time_unix_nano < span.start_time_unix_nano:
        return "end time before start time"
    return None


def decode(request: trace_service_pb2.ExportTraceServiceRequest, redactor: Redactor, max_events: int) -> Decoded:
    """The rows of a request's valid spans (attributes redacted), and the refused spans counted by reason."""
    decoded = Decoded()
    rows = decoded.rows
    for resource_spans in request.resource_spans:
        resource = redactor.clean(_pairs(resource_spans.resource.attributes))
        service = str(resource.get("service.name") or UNKNOWN_SERVICE)[:MAX_SERVICE]
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if (reason := _refusal(span)) is not None:
                    decoded.refused[reason] += 1
                    continue
                start_us = span.start_time_unix_nano // 1000
                parent = span.parent_span_id
                rows.append(
                    {
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": parent.hex() if parent and parent != _ZERO_SPAN else None,
                        "service": service,
                        "operation": span.name[:MAX_OPERATION],
                        "kind": KINDS[span.kind] if 0 <= span.kind < len(KINDS) else "internal",
                        "start_us": start_us,
                        "duration_us": span.end_time_unix_nano // 1000 - start_us,
                        "status": span.status.code if span.status.code in (0, 1, 2) else 0,
                        "status_message": span.status.message[:MAX_STATUS_MESSAGE] or None,
                        "attributes": redactor.clean(_pairs(span.attributes)),
                        "events": [_event(event, redactor) for event in span.events[:max_events]],
                        "resource": resource,
                    }
                )
    return decoded


def _event(event: OtlpSpan.Event, redactor: Redactor) -> dict[str, Any]:
    return {
        "name": event.name[:MAX_OPERATION],
        "time_us": event.time_unix_nano // 1000,
        "attributes": redactor.clean(_pairs(event.attributes)),
    }


def serialize(message: Message, encoding: Encoding) -> bytes:
    """A message in the given encoding (OTLP JSON: camelCase names, no default fields)."""
    if encoding is Encoding.PROTOBUF:
        return bytes(message.SerializeToString())
    return json.dumps(json_format.MessageToDict(message), separators=(",", ":")).encode()


def export_response(decoded: Decoded, encoding: Encoding) -> bytes:
    """The 200 answer: empty when every span was accepted, else the partial success."""
    response = trace_service_pb2.ExportTraceServiceResponse()
    if decoded.rejected:
        response.partial_success.rejected_spans = decoded.rejected
        response.partial_success.error_message = decoded.message()
    return serialize(response, encoding)


def status_body(code: int, message: str, encoding: Encoding) -> bytes:
    """A `google.rpc.Status` (the body OTLP/HTTP gives every refused request); `code` is a gRPC code."""
    return serialize(status_pb2.Status(code=code, message=message), encoding)


def json_value(value: Any) -> dict[str, Any]:
    """Plain JSON data as an OTLP JSON AnyValue (the inverse of `any_value`, bytes having become hex text)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [json_value(item) for item in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": json_attributes(value)}}
    return {}


def json_attributes(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    """An attribute map as OTLP JSON key-value pairs."""
    return [{"key": key, "value": json_value(value)} for key, value in attributes.items()]


def json_span(row: dict[str, Any]) -> dict[str, Any]:
    """A stored span as an OTLP JSON span (hex ids, nanosecond times as strings, int64 as JSON numbers' text)."""
    start_ns = row["start_us"] * 1000
    span: dict[str, Any] = {
        "traceId": row["trace_id"],
        "spanId": row["span_id"],
        "name": row["operation"],
        "kind": KIND_CODES.get(row["kind"], 1),
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(start_ns + row["duration_us"] * 1000),
        "attributes": json_attributes(row["attributes"]),
        "events": [
            {
                "timeUnixNano": str(event.get("time_us", 0) * 1000),
                "name": event.get("name", ""),
                "attributes": json_attributes(event.get("attributes", {})),
            }
            for event in row["events"]
        ],
        "status": {"code": row["status"], **({"message": row["status_message"]} if row["status_message"] else {})},
    }
    if row["parent_span_id"]:
        span["parentSpanId"] = row["parent_span_id"]
    return span


def json_request(rows: list[dict[str, Any]], scope: str) -> dict[str, Any]:
    """Stored spans as one OTLP JSON `ExportTraceServiceRequest`, one resource per service and resource."""
    groups: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for row in rows:
        key = json.dumps([row["service"], row["resource"]], sort_keys=True)
        groups.setdefault(key, (row["resource"], []))[1].append(json_span(row))
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": json_attributes(resource)},
                "scopeSpans": [{"scope": {"name": scope}, "spans": spans}],
            }
            for resource, spans in groups.values()
        ]
    }
