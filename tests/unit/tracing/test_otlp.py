"""Decoding OTLP payloads: both encodings, hex ids in JSON, refusals counted by reason, gzip within the limit."""

from __future__ import annotations

import gzip
import json

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from mlsec.services.tracing.service import otlp
from mlsec.services.tracing.service.otlp import Encoding, PayloadError
from mlsec.services.tracing.service.redaction import Redactor

TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"
PARENT = "00f067aa0ba902b7"


def _json_request(**span_fields: object) -> dict[str, object]:
    span = {
        "traceId": TRACE,
        "spanId": SPAN,
        "parentSpanId": PARENT,
        "name": "GET /models",
        "kind": 2,
        "startTimeUnixNano": "1700000000000001000",
        "endTimeUnixNano": "1700000000250001000",
        "attributes": [
            {"key": "http.route", "value": {"stringValue": "/models"}},
            {"key": "http.response.status_code", "value": {"intValue": "200"}},
            {"key": "list", "value": {"arrayValue": {"values": [{"boolValue": True}, {"doubleValue": 1.5}]}}},
        ],
        "status": {"code": 2, "message": "boom"},
    }
    span.update(span_fields)
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "gateway"}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]}


def _decode(document: dict[str, object]) -> otlp.Decoded:
    request = otlp.parse(json.dumps(document).encode(), Encoding.JSON)
    return otlp.decode(request, Redactor(), max_events=8)


def test_otlp_json_with_hex_ids_becomes_a_row() -> None:
    decoded = _decode(_json_request())
    assert decoded.rejected == 0
    (row,) = decoded.rows
    assert (row["trace_id"], row["span_id"], row["parent_span_id"]) == (TRACE, SPAN, PARENT)
    assert row["service"] == "gateway" and row["kind"] == "server"
    assert row["start_us"] == 1_700_000_000_000_001 and row["duration_us"] == 250_000
    assert row["status"] == 2 and row["status_message"] == "boom"
    assert row["attributes"] == {"http.route": "/models", "http.response.status_code": 200, "list": [True, 1.5]}


def test_protobuf_and_json_decode_alike() -> None:
    request = otlp.parse(json.dumps(_json_request()).encode(), Encoding.JSON)
    again = otlp.parse(request.SerializeToString(), Encoding.PROTOBUF)
    assert otlp.decode(again, Redactor(), 8).rows == otlp.decode(request, Redactor(), 8).rows


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"traceId": "zz"}, "invalid trace id"),
        ({"traceId": "00" * 16}, "invalid trace id"),
        ({"spanId": "abcd"}, "invalid span id"),
        ({"parentSpanId": "abcd"}, "invalid parent span id"),
        ({"startTimeUnixNano": "0"}, "no start time"),
        ({"endTimeUnixNano": "1"}, "end time before start time"),
    ],
)
def test_a_bad_span_is_refused_with_its_reason(fields: dict[str, object], reason: str) -> None:
    decoded = _decode(_json_request(**fields))
    assert decoded.rows == [] and decoded.rejected == 1
    assert reason in decoded.message()


def test_an_all_zero_parent_means_a_root_and_unspecified_kind_internal() -> None:
    (row,) = _decode(_json_request(parentSpanId="0" * 16, kind=0)).rows
    assert row["parent_span_id"] is None and row["kind"] == "internal"


@pytest.mark.parametrize(
    "body", [b"\x08", b"{", b"[]", b'{"resourceSpans": [{"scopeSpans": 3}]}', b'{"resourceSpans": ["AAA"]}']
)
def test_what_is_not_a_request_is_a_payload_error(body: bytes) -> None:
    with pytest.raises(PayloadError):
        otlp.parse(body, Encoding.JSON if body[:1] in b"{[" else Encoding.PROTOBUF)


def test_gzip_is_inflated_up_to_the_limit() -> None:
    data = ExportTraceServiceRequest().SerializeToString() + b"x" * 100
    assert otlp.inflate(gzip.compress(data), 1000) == data
    with pytest.raises(PayloadError) as too_large:
        otlp.inflate(gzip.compress(b"\0" * 5000), 1000)
    assert too_large.value.too_large
    with pytest.raises(PayloadError):
        otlp.inflate(gzip.compress(data)[:-10], 1000)


def test_an_exported_span_reads_back_as_the_same_row() -> None:
    (row,) = _decode(_json_request()).rows
    document = otlp.json_request([row], "tests")
    assert _decode(document).rows == [row]


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        ("application/x-protobuf", Encoding.PROTOBUF),
        ("application/json; charset=utf-8", Encoding.JSON),
        ("text/plain", None),
        (None, None),
    ],
)
def test_content_types(content_type: str | None, encoding: Encoding | None) -> None:
    assert otlp.encoding_of(content_type) is encoding
