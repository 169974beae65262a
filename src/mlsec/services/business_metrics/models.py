"""Tables of the business-metrics database: rollups of what the other services did, per minute, hour and day;
where the collector stopped reading each source; SLAs, their breaches, and stored reports.

A rollup's `bucket` is the start of its interval in whole minutes since the epoch (UTC), an integer the same on
SQLite and PostgreSQL. Hour and day rows are written with their minute (the same deltas, in the same
transaction), so a query over months reads days, never millions of minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mlsec.core.database import UtcDateTime, new_metadata

RESOLUTION_LENGTH = 8
SERVICE_LENGTH = 64
MODEL_NAME_LENGTH = 100
MODEL_VERSION_LENGTH = 64
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = new_metadata()
    type_annotation_map = {dict[str, Any]: JSON, datetime: UtcDateTime()}  # noqa: RUF012


class PredictionRollup(Base):
    """Production predictions of one model version served by one service in one bucket."""

    __tablename__ = "prediction_rollup"

    resolution: Mapped[str] = mapped_column(String(RESOLUTION_LENGTH), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    service: Mapped[str] = mapped_column(String(SERVICE_LENGTH), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(MODEL_NAME_LENGTH), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(MODEL_VERSION_LENGTH), primary_key=True)
    predictions: Mapped[int] = mapped_column(BigInteger)
    threats: Mapped[int] = mapped_column(BigInteger, doc="Predictions whose label is not a benign label.")
    latency_ms_sum: Mapped[float] = mapped_column(Float)
    latency_sketch: Mapped[dict[str, Any]] = mapped_column(doc="service/sketch.py's LatencySketch.to_json().")


class ServiceRollup(Base):
    """Health probes and process metrics of one service in one bucket (deltas of its counters)."""

    __tablename__ = "service_rollup"

    resolution: Mapped[str] = mapped_column(String(RESOLUTION_LENGTH), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    service: Mapped[str] = mapped_column(String(SERVICE_LENGTH), primary_key=True)
    probes: Mapped[int] = mapped_column(Integer)
    healthy_probes: Mapped[int] = mapped_column(Integer)
    observed_s: Mapped[float] = mapped_column(Float, doc="Seconds between probes attributed to this bucket.")
    down_s: Mapped[float] = mapped_column(Float, doc="Of those, the seconds after a probe that found it down.")
    outages: Mapped[int] = mapped_column(Integer, doc="Healthy-to-down transitions.")
    cpu_s: Mapped[float] = mapped_column(Float, doc="Delta of process_cpu_seconds_total.")
    memory_gib_minutes: Mapped[float] = mapped_column(Float, doc="Resident memory (GiB) x minutes observed.")
    requests: Mapped[int] = mapped_column(BigInteger)
    errors: Mapped[int] = mapped_column(BigInteger, doc="Requests answered with a 5xx status.")
    prediction_requests: Mapped[int] = mapped_column(BigInteger)
    prediction_errors: Mapped[int] = mapped_column(BigInteger)


class FeedbackRollup(Base):
    """Confusion counts of labelled feedback of one model version (positive: a threat)."""

    __tablename__ = "feedback_rollup"

    resolution: Mapped[str] = mapped_column(String(RESOLUTION_LENGTH), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(MODEL_NAME_LENGTH), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(MODEL_VERSION_LENGTH), primary_key=True)
    tp: Mapped[int] = mapped_column(BigInteger)
    fp: Mapped[int] = mapped_column(BigInteger)
    tn: Mapped[int] = mapped_column(BigInteger)
    fn: Mapped[int] = mapped_column(BigInteger)


class EventRollup(Base):
    """Retrains, promotions, drift alerts and SLA breaches of one model in one bucket."""

    __tablename__ = "event_rollup"

    resolution: Mapped[str] = mapped_column(String(RESOLUTION_LENGTH), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(MODEL_NAME_LENGTH), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


class CollectCursor(Base):
    """Where the collector stopped reading one source (a JSON value), so a restart neither loses nor counts twice."""

    __tablename__ = "collect_cursor"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Sla(Base):
    """Objectives of a model (one version, or every version when `model_version` is null) over a window."""

    __tablename__ = "sla"
    __table_args__ = (UniqueConstraint("model_name", "model_version", name="uq_sla_model_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(MODEL_NAME_LENGTH))
    model_version: Mapped[str | None] = mapped_column(String(MODEL_VERSION_LENGTH), nullable=True)
    latency_p99_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    availability_min: Mapped[float | None] = mapped_column(Float, nullable=True)
    error_rate_max: Mapped[float | None] = mapped_column(Float, nullable=True)
    window_minutes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaBreach(Base):
    """An objective found broken over a window."""

    __tablename__ = "sla_breach"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    sla_id: Mapped[int] = mapped_column(Integer, index=True)
    model_name: Mapped[str] = mapped_column(String(MODEL_NAME_LENGTH), index=True)
    model_version: Mapped[str] = mapped_column(String(MODEL_VERSION_LENGTH))
    objective: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    window_start: Mapped[datetime] = mapped_column()
    window_end: Mapped[datetime] = mapped_column()
    detected_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Report(Base):
    """A generated report: its period, format and content."""

    __tablename__ = "report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    period_start: Mapped[datetime] = mapped_column()
    period_end: Mapped[datetime] = mapped_column()
    format: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    trigger: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary)
