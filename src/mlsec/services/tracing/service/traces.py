"""Traces: the search (by service, operation, tags, status, the trace's duration and time), one trace as a tree,
its spans and one span.

The search reads the `trace` table for what a trace has (its duration, start and error count, so a duration
filter keeps or drops whole traces, never single spans) and asks `span` and `span_tag` only whether a trace
holds a matching span, with EXISTS subqueries on their indexes: the newest (or longest) traces are walked in
index order and the walk stops at `limit`, so no window's spans are ever read into Python."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.errors import InvalidInputError
from mlsec.services.tracing.errors import SpanNotFoundError, TraceNotFoundError
from mlsec.services.tracing.models import Span, SpanTag, Trace
from mlsec.services.tracing.schemas.traces import SortOrder, TraceList, TraceRead, TraceStatus, TreeNode, TreeSpan
from mlsec.services.tracing.schemas.traces import Span as SpanRead
from mlsec.services.tracing.service.queries import ms, span_read, trace_summary

MAX_TAG_KEY = 128  # span_tag.key
MAX_TAG_VALUE = 256  # span_tag.value: the receiver truncates longer values to this
PROBE_ROWS = 500
"""A span filter matching at most this many rows drives the search (IN); above it the traces are walked."""
MAX_TREE_DEPTH = 100
"""Levels the tree nests (JSON serializers stop at a few hundred); deeper spans hang flat under the 100th level's
span, and the depth-first list still gives each its true depth."""
MAX_SPANS_READ = 10_000
"""Most spans one trace answers with (a runaway loop could put millions in one trace)."""


@dataclass(frozen=True)
class TraceQuery:
    """A search's filters, validated by the route: times in microseconds, durations in microseconds."""

    service: str | None = None
    operation: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    status: TraceStatus | None = None
    min_duration_us: int | None = None
    max_duration_us: int | None = None
    start_us: int | None = None
    end_us: int | None = None
    sort: SortOrder = "start"
    limit: int = 20


def parse_tags(values: list[str]) -> tuple[tuple[str, str], ...]:
    """`key=value` filters as pairs; 422 for one without `=`, with an empty key, or longer than the store keeps."""
    tags = []
    for value in values:
        key, sep, wanted = value.partition("=")
        if not sep or not key:
            raise InvalidInputError("a tag filter is key=value, e.g. http.route=/predict")
        if len(key) > MAX_TAG_KEY or len(wanted) > MAX_TAG_VALUE:
            raise InvalidInputError(f"a tag's key is at most {MAX_TAG_KEY} characters and its value {MAX_TAG_VALUE}")
        tags.append((key, wanted))
    return tuple(tags)


def check_ranges(query: TraceQuery) -> TraceQuery:
    """422 for a range that can match nothing: a minimum duration over the maximum, a start after the end."""
    low, high = query.min_duration_us, query.max_duration_us
    if low is not None and high is not None and low > high:
        raise InvalidInputError("min_duration_ms is greater than max_duration_ms")
    if query.start_us is not None and query.end_us is not None and query.start_us > query.end_us:
        raise InvalidInputError("start is after end")
    return query


def _span_filters(query: TraceQuery, *, narrow: bool = True) -> list[tuple[Any, Any]]:
    """Each thing one of a trace's spans must be, as (the trace ids that have it, whether an index can count it).

    `narrow` adds the search's start to the span filter (a span starts no earlier than its trace), which narrows
    the (service, operation, start) index range when the filter is counted or drives the search. The EXISTS of a
    walked trace goes without it: with a range on that index in the subquery, SQLite's planner prefers it over the
    trace id's and reads every matching span of the window for each trace walked (1.7 s instead of milliseconds
    on 50,000 spans); without it, the subquery looks the trace's few spans up by trace id."""
    filters: list[tuple[Any, Any]] = []
    if query.service is not None or query.operation is not None:
        # The EXISTS of a walked trace compares `service || ''` (and the operation alike): an expression, which no
        # index serves, so that SQLite looks the trace's few spans up by the primary key's trace id prefix instead
        # of walking the (service, operation, start) index's whole entry for each trace.
        service = Span.service if narrow else Span.service.concat("")
        operation = Span.operation if narrow else Span.operation.concat("")
        conditions = [service == query.service] if query.service is not None else []
        if query.operation is not None:
            conditions.append(operation == query.operation)
        if narrow and query.start_us is not None:
            conditions.append(Span.start_us >= query.start_us)
        filters.append((select(Span.trace_id).where(*conditions), query.service is not None))
    for key, value in query.tags:
        filters.append((select(SpanTag.trace_id).where(SpanTag.key == key, SpanTag.value == value), True))
    return filters


async def _rare_filter(session: AsyncSession, filters: list[tuple[Any, Any]]) -> int | None:
    """The index of the filter matching fewest rows when one matches at most PROBE_ROWS (each counted on its
    index, never past PROBE_ROWS + 1 rows); None when every filter is common."""
    best: tuple[int, int] | None = None
    for index, (matching, indexed) in enumerate(filters):
        if not indexed:
            continue
        counted = matching.with_only_columns(literal(1)).limit(PROBE_ROWS + 1)  # the index alone, no row read
        probe = select(func.count()).select_from(counted.subquery())
        found = int((await session.execute(probe)).scalar_one())
        if found <= PROBE_ROWS and (best is None or found < best[0]):
            best = (found, index)
    return None if best is None else best[1]


def search_statement(query: TraceQuery, *, driving: int | None = None) -> Select[Trace]:
    """The SELECT of a search: conditions on the trace row, and for each span filter an EXISTS (the traces are
    walked newest or longest first and each is checked on the span's primary key or the tag index, which stops
    at `limit`) or, for the `driving` filter that matches few rows, an IN over its index (those few traces are
    read by primary key and sorted)."""
    conditions: list[Any] = []
    if query.start_us is not None:
        conditions.append(Trace.start_us >= query.start_us)
    if query.end_us is not None:
        conditions.append(Trace.start_us <= query.end_us)
    if query.min_duration_us is not None:
        conditions.append(Trace.duration_us >= query.min_duration_us)
    if query.max_duration_us is not None:
        conditions.append(Trace.duration_us <= query.max_duration_us)
    if query.status == "error":
        conditions.append(Trace.error_count > 0)
    elif query.status == "ok":
        conditions.append(Trace.error_count == 0)
    walked = _span_filters(query, narrow=False)
    for index, (matching, _) in enumerate(_span_filters(query)):
        if index == driving:
            conditions.append(Trace.trace_id.in_(matching))
        else:
            checked = walked[index][0]
            conditions.append(exists(checked.where(_same_trace(checked)).with_only_columns(literal(1))))
    order = (Trace.start_us.desc(),) if query.sort == "start" else (Trace.duration_us.desc(), Trace.start_us.desc())
    return select(Trace).where(*conditions).order_by(*order).limit(query.limit)


def _same_trace(matching: Any) -> Any:
    """The correlation of a span filter's subquery with the outer trace row."""
    column = matching.selected_columns[0]
    return column == Trace.trace_id


async def search(session: AsyncSession, query: TraceQuery) -> TraceList:
    """The traces that match every filter, newest (or longest) first."""
    driving = await _rare_filter(session, _span_filters(query))
    rows = (await session.execute(search_statement(query, driving=driving))).scalars().all()
    return TraceList(traces=[trace_summary(row) for row in rows], count=len(rows), limit=query.limit)


async def get_or_raise(session: AsyncSession, trace_id: str) -> TraceRead:
    """One trace with its spans depth-first (children by start time) and as a tree; 404 when unknown."""
    trace = await session.get(Trace, trace_id)
    if trace is None:
        raise TraceNotFoundError(trace_id)
    spans = await _spans(session, trace_id)
    ordered, tree = build_tree(spans)
    read = [
        TreeSpan(**span_read(span).model_dump(), depth=depth, offset_ms=ms(span.start_us - trace.start_us))
        for span, depth in ordered
    ]
    return TraceRead(trace=trace_summary(trace), spans=read, tree=tree)


async def get_spans_or_raise(session: AsyncSession, trace_id: str) -> list[SpanRead]:
    """A trace's spans by start time; 404 when the trace is unknown."""
    spans = await _spans(session, trace_id)
    if not spans and await session.get(Trace, trace_id) is None:
        raise TraceNotFoundError(trace_id)
    return [span_read(span) for span in spans]


async def get_span_or_raise(session: AsyncSession, trace_id: str, span_id: str) -> SpanRead:
    """One span of a trace; 404 when either is unknown."""
    span = await session.get(Span, (trace_id, span_id))
    if span is None:
        raise SpanNotFoundError(trace_id, span_id)
    return span_read(span)


async def _spans(session: AsyncSession, trace_id: str) -> list[Span]:
    statement = (
        select(Span).where(Span.trace_id == trace_id).order_by(Span.start_us, Span.span_id).limit(MAX_SPANS_READ)
    )
    return list((await session.execute(statement)).scalars().all())


def build_tree(spans: list[Span]) -> tuple[list[tuple[Span, int]], list[TreeNode]]:
    """Spans (by start time) in depth-first order with their depths, and the same as nested nodes.

    A span whose parent is not in the trace (not arrived yet, or dropped) is a root, so nothing is hidden; the
    walk is iterative and visits each span once, so neither a deep trace nor a parent loop in bad data can
    exhaust the stack or loop; the nodes nest at most MAX_TREE_DEPTH levels."""
    ids = {span.span_id for span in spans}
    children: dict[str | None, list[Span]] = defaultdict(list)
    for span in spans:  # already by start time, so every child list is too
        parent = span.parent_span_id if span.parent_span_id in ids and span.parent_span_id != span.span_id else None
        children[parent].append(span)
    ordered: list[tuple[Span, int]] = []
    roots: list[TreeNode] = []
    visited: set[str] = set()
    stack: list[tuple[Span, int, list[TreeNode]]] = [(span, 0, roots) for span in reversed(children[None])]
    while stack:
        span, depth, siblings = stack.pop()
        if span.span_id in visited:
            continue
        visited.add(span.span_id)
        node = TreeNode(span_id=span.span_id, children=[])
        siblings.append(node)
        ordered.append((span, depth))
        nest = node.children if depth < MAX_TREE_DEPTH else siblings  # deeper: flat under the last level
        stack.extend((child, depth + 1, nest) for child in reversed(children[span.span_id]))
    for span in spans:  # spans on a parent loop with no way in from a root: shown as roots, once
        if span.span_id not in visited:
            visited.add(span.span_id)
            roots.append(TreeNode(span_id=span.span_id, children=[]))
            ordered.append((span, 0))
    return ordered, roots
