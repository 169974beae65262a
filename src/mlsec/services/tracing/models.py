"""Tables of the tracing database: spans, one summary row per trace, span tags for search, and the service
map's edges per minute.

Times are integers (microseconds since the epoch, UTC) rather than timestamps: spans arrive with nanosecond
times, durations are compared and summed at every query, and an integer index is the cheapest on both
SQLite and PostgreSQL. Ids are lower-case hex (32 characters for a trace, 16 for a span), as OTLP JSON
and W3C trace context write them.

No column holds a request's text: spans carry only the attributes the platform's services set (routes,
statuses, model names and versions, ids), and the receiver drops attributes that could hold a person's data
(`mlsec.services.tracing.service.redaction`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, SmallInteger, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mlsec.core.database import new_metadata

TRACE_ID_LENGTH = 32
SPAN_ID_LENGTH = 16


class Base(DeclarativeBase):
    metadata = new_metadata()
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


class Span(Base):
    """One span as received: who (service), what (operation, kind), when (start, duration), how it ended (status)
    and its attributes, events and resource."""

    __tablename__ = "span"
    __table_args__ = (
        Index("ix_span_service_operation_start", "service", "operation", "start_us"),
        Index("ix_span_start", "start_us"),
    )
    # No (trace_id, parent_span_id) index: the primary key's trace_id prefix finds a trace's few spans, and every
    # index entry costs ingest a random page write.

    trace_id: Mapped[str] = mapped_column(String(TRACE_ID_LENGTH), primary_key=True)
    span_id: Mapped[str] = mapped_column(String(SPAN_ID_LENGTH), primary_key=True)
    parent_span_id: Mapped[str | None] = mapped_column(String(SPAN_ID_LENGTH), nullable=True)
    service: Mapped[str] = mapped_column(String(128), doc="The resource's service.name.")
    operation: Mapped[str] = mapped_column(String(256), doc="The span's name.")
    kind: Mapped[str] = mapped_column(String(16), doc="internal, server, client, producer or consumer.")
    start_us: Mapped[int] = mapped_column(BigInteger)
    duration_us: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[int] = mapped_column(SmallInteger, doc="OTLP status code: 0 unset, 1 ok, 2 error.")
    status_message: Mapped[str | None] = mapped_column(String(512), nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column()
    events: Mapped[list[Any]] = mapped_column()
    resource: Mapped[dict[str, Any]] = mapped_column()
    received_us: Mapped[int] = mapped_column(
        BigInteger, doc="When the receiver stored it: how late a span arrived (retention goes by the trace's start)."
    )


class Trace(Base):
    """A trace's summary, updated as its spans arrive (they come in several batches, from several services): the
    search of traces by duration reads this row, so it filters traces, not spans."""

    __tablename__ = "trace"
    __table_args__ = (
        Index("ix_trace_start", "start_us"),
        Index("ix_trace_duration", "duration_us"),
        Index("ix_trace_root_service_start", "root_service", "start_us"),
    )

    trace_id: Mapped[str] = mapped_column(String(TRACE_ID_LENGTH), primary_key=True)
    start_us: Mapped[int] = mapped_column(BigInteger, doc="The earliest start of its spans.")
    end_us: Mapped[int] = mapped_column(BigInteger, doc="The latest end of its spans.")
    duration_us: Mapped[int] = mapped_column(BigInteger, doc="end_us - start_us.")
    span_count: Mapped[int] = mapped_column(Integer)
    error_count: Mapped[int] = mapped_column(Integer)
    root_service: Mapped[str | None] = mapped_column(String(128), nullable=True, doc="Set once the root span arrives.")
    root_operation: Mapped[str | None] = mapped_column(String(256), nullable=True)
    services: Mapped[list[Any]] = mapped_column(doc="The services its spans came from, sorted.")


class SpanTag(Base):
    """One searchable attribute of a span (`key=value`, strings, numbers and booleans as text): the search by tag
    is an index lookup, the same on SQLite and PostgreSQL, instead of a JSON query each backend writes its own way.

    The row is its key (key, value, trace id, span id), and on SQLite the table is that one b-tree (WITHOUT
    ROWID): a surrogate id and a trace id index would cost ingest two more random page writes per tag, for a
    lookup retention makes by these keys instead (it derives a deleted span's tags from its attributes)."""

    __tablename__ = "span_tag"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(256), primary_key=True)
    trace_id: Mapped[str] = mapped_column(String(TRACE_ID_LENGTH), primary_key=True)
    span_id: Mapped[str] = mapped_column(String(SPAN_ID_LENGTH), primary_key=True)


class ServiceEdge(Base):
    """Calls from one service to another in one minute: a child span whose parent is another service's span.

    Written at ingest, whichever of the two spans arrives first, so the service map is a sum over a window of
    minutes and never needs a batch job."""

    __tablename__ = "service_edge"

    minute: Mapped[int] = mapped_column(BigInteger, primary_key=True, doc="start_us // 60_000_000 of the child.")
    source: Mapped[str] = mapped_column(String(128), primary_key=True, doc="The parent span's service.")
    target: Mapped[str] = mapped_column(String(128), primary_key=True, doc="The child span's service.")
    calls: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)
    duration_us_sum: Mapped[int] = mapped_column(BigInteger, doc="Sum of the child spans' durations.")
    duration_us_max: Mapped[int] = mapped_column(BigInteger)
