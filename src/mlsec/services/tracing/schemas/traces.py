"""Shapes of the trace queries: a span, a trace's summary, a search's answer and one trace as a tree.

Times are ISO 8601 UTC; durations are milliseconds as floats (the store keeps microseconds)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

SpanStatus = Literal["unset", "ok", "error"]
SortOrder = Literal["start", "duration"]
TraceStatus = Literal["ok", "error"]


class Span(BaseModel):
    """One span as stored: who (service), what (operation, kind), when, how long and how it ended."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    service: str
    operation: str
    kind: str = Field(description="internal, server, client, producer or consumer.")
    start_time: datetime
    duration_ms: float
    status: SpanStatus
    status_message: str | None
    attributes: dict[str, Any]
    events: list[Any]
    resource: dict[str, Any]


class TreeSpan(Span):
    """A span in a trace's depth-first order, with its place in the tree and its start from the trace's start."""

    depth: int = Field(description="0 for a root (or a span whose parent never arrived), 1 for its children, ...")
    offset_ms: float = Field(description="Its start, in milliseconds after the trace's start.")


class TreeNode(BaseModel):
    """A span of the tree and the spans it is the parent of, by start time."""

    span_id: str
    children: list[TreeNode]


class TraceSummary(BaseModel):
    """A trace as the `trace` table sums it up: its first start, last end, counts and services."""

    trace_id: str
    start_time: datetime
    duration_ms: float = Field(description="The trace's duration: its latest span end minus its earliest start.")
    span_count: int
    error_count: int = Field(description="Spans with status error.")
    root_service: str | None = Field(description="Null until the span without a parent has arrived.")
    root_operation: str | None
    services: list[str]


class TraceList(BaseModel):
    """The traces a search found, in the order asked for; `count` is the number returned (at most `limit`)."""

    traces: list[TraceSummary]
    count: int
    limit: int


class TraceRead(BaseModel):
    """One trace: its summary, its spans depth-first (children by start time) and the same spans as a tree."""

    trace: TraceSummary
    spans: list[TreeSpan]
    tree: list[TreeNode]


class SpanList(BaseModel):
    """A trace's spans by start time."""

    trace_id: str
    spans: list[Span]
