"""Trace routes: the search (`/traces`, `/search/traces`), one trace as a tree, its spans and one span."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import StringConstraints

from mlsec.core.limits import NO_NUL_PATTERN, UtcDatetime
from mlsec.core.openapi import error_responses
from mlsec.services.tracing.dependencies import SessionDep, SpanIdPath, TraceIdPath
from mlsec.services.tracing.schemas.traces import SortOrder, SpanList, TraceList, TraceRead, TraceStatus
from mlsec.services.tracing.schemas.traces import Span as SpanRead
from mlsec.services.tracing.service import traces
from mlsec.services.tracing.service.queries import to_us

router = APIRouter(tags=["traces"])

MAX_DURATION_MS = 1e12  # about 31 years: more than any span, small enough to stay an integer of microseconds
TAG_PATTERN = r"^[^=\x00]{1,128}=[^\x00]{0,256}$"
"""key=value: a key of 1 to 128 characters without `=`, a value of at most 256 (the longest the store keeps);
no NUL (PostgreSQL cannot compare one)."""
DurationMs = Annotated[float | None, Query(ge=0, le=MAX_DURATION_MS, description="The TRACE's duration (ms).")]


def trace_query(
    service: Annotated[
        str | None, Query(min_length=1, max_length=128, pattern=NO_NUL_PATTERN, description="A span of this service.")
    ] = None,
    operation: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=256,
            pattern=NO_NUL_PATTERN,
            description="A span with this name (of `service` if given).",
        ),
    ] = None,
    tag: Annotated[
        list[Annotated[str, StringConstraints(pattern=TAG_PATTERN)]] | None,
        Query(max_length=20, description="key=value: a span with this attribute; repeatable (20 at most), all hold."),
    ] = None,
    status: Annotated[TraceStatus | None, Query(description="error: a trace with an error span; ok: without.")] = None,
    min_duration_ms: DurationMs = None,
    max_duration_ms: DurationMs = None,
    start: Annotated[UtcDatetime | None, Query(description="The trace started at or after (naive: UTC).")] = None,
    end: Annotated[UtcDatetime | None, Query(description="The trace started at or before.")] = None,
    sort: Annotated[SortOrder, Query(description="start: newest first; duration: longest first.")] = "start",
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> traces.TraceQuery:
    """The search's filters from the query string; 422 for a bad tag, min > max or start > end."""
    query = traces.TraceQuery(
        service=service,
        operation=operation,
        tags=traces.parse_tags(tag or []),
        status=status,
        min_duration_us=None if min_duration_ms is None else round(min_duration_ms * 1000),
        max_duration_us=None if max_duration_ms is None else round(max_duration_ms * 1000),
        start_us=None if start is None else to_us(start),
        end_us=None if end is None else to_us(end),
        sort=sort,
        limit=limit,
    )
    return traces.check_ranges(query)


TraceQueryDep = Annotated[traces.TraceQuery, Depends(trace_query)]


@router.get("/traces", response_model=TraceList)
async def get_traces(query: TraceQueryDep, session: SessionDep) -> TraceList:
    """Traces matching every filter, newest first (or longest with sort=duration). Duration, time and status are
    the trace's; service, operation and tags ask for one of its spans."""
    return await traces.search(session, query)


@router.get("/search/traces", response_model=TraceList)
async def search_traces(query: TraceQueryDep, session: SessionDep) -> TraceList:
    """The same search as `GET /traces` (seed 000's path)."""
    return await traces.search(session, query)


@router.get("/traces/{trace_id}", response_model=TraceRead, responses=error_responses(404))
async def get_trace(trace_id: TraceIdPath, session: SessionDep) -> TraceRead:
    """One trace: its summary, its spans depth-first with depth and offset, and the tree; 404 when unknown."""
    return await traces.get_or_raise(session, trace_id)


@router.get("/traces/{trace_id}/spans", response_model=SpanList, responses=error_responses(404))
async def get_trace_spans(trace_id: TraceIdPath, session: SessionDep) -> SpanList:
    """A trace's spans by start time; 404 when unknown."""
    return SpanList(trace_id=trace_id, spans=await traces.get_spans_or_raise(session, trace_id))


@router.get("/traces/{trace_id}/spans/{span_id}", response_model=SpanRead, responses=error_responses(404))
async def get_trace_span(trace_id: TraceIdPath, span_id: SpanIdPath, session: SessionDep) -> SpanRead:
    """One span; 404 when the trace or the span is unknown."""
    return await traces.get_span_or_raise(session, trace_id, span_id)
