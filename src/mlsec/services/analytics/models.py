"""Tables of the analytics database: drift runs and alerts, labelled feedback, red-team runs, auto-retrain
state and the promotion ledger.

Every row carries the model version it is about, so history stays readable after promotions. The promotion
ledger is append-only: the migration adds database triggers that refuse UPDATE and DELETE on it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mlsec.core.database import UtcDateTime, new_metadata
from mlsec.core.traffic import PRODUCTION


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = new_metadata()
    type_annotation_map = {  # noqa: RUF012
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: UtcDateTime(),
    }


class DriftRun(Base):
    """One drift check: ad hoc on given data, on an uploaded file pair, or on a model's live traffic."""

    __tablename__ = "drift_run"
    __table_args__ = (Index("ix_drift_run_model_created", "model_name", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(16))  # request, upload, live, schedule
    model_name: Mapped[str | None] = mapped_column(String(100))
    model_version: Mapped[str | None] = mapped_column(String(32))
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    reference_rows: Mapped[int] = mapped_column(Integer)
    current_rows: Mapped[int] = mapped_column(Integer)
    drift_detected: Mapped[bool] = mapped_column(Boolean)
    model_drift: Mapped[bool] = mapped_column(Boolean, default=False)  # the score distribution moved
    severity: Mapped[str] = mapped_column(String(8))
    drifted_features: Mapped[list[Any]] = mapped_column(JSON)
    method: Mapped[str] = mapped_column(Text)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)


class DriftAlert(Base):
    """An alert raised by a drift run (or a performance drop), until someone acknowledges it."""

    __tablename__ = "drift_alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    model_name: Mapped[str | None] = mapped_column(String(100), index=True)
    model_version: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(24))  # data_drift, model_drift, performance_drop
    severity: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)
    drift_run_id: Mapped[int | None] = mapped_column(Integer)
    features: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open, acknowledged
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    notifications: Mapped[dict[str, Any]] = mapped_column(JSON)  # channel -> sent / failed / off
    trace_id: Mapped[str | None] = mapped_column(String(32))  # the trace of the request or check that raised it


class Feedback(Base):
    """A prediction with its true label, the ground truth performance is measured on."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_model_created", "model_name", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    predicted_at: Mapped[datetime | None]
    model_name: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(32))
    prediction: Mapped[str] = mapped_column(String(100))
    true_label: Mapped[str] = mapped_column(String(100))
    score: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)  # kept only when sent, for retraining exports
    source: Mapped[str] = mapped_column(String(32), default="api")
    # The side of the split (feedback_data.is_holdout of the text): held out for judging promotions, never
    # trained on. Stored so every reader selects a side in SQL.
    holdout: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # mlsec.core.traffic: performance figures and the performance-drop trigger read production feedback only.
    traffic_class: Mapped[str] = mapped_column(String(16), default=PRODUCTION, server_default=PRODUCTION)


class RedTeamRun(Base):
    """One red-team run against a model version: rates per technique and the prompts that evaded."""

    __tablename__ = "redteam_run"
    __table_args__ = (Index("ix_redteam_run_model_created", "model_name", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    model_name: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # run (by this service) or upload (results stored)
    attempts: Mapped[int] = mapped_column(Integer)
    detected: Mapped[int] = mapped_column(Integer)
    detection_rate: Mapped[float] = mapped_column(Float)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)


class MonitoringConfig(Base):
    """How one model is watched: drift thresholds, auto-retrain triggers and limits, promotion criteria.

    The row named "*" holds the defaults of every model without a row of its own."""

    __tablename__ = "monitoring_config"

    model_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RetrainRequest(Base):
    """A retrain asked for by a trigger or a person: queued, started (a training job), skipped, or finished."""

    __tablename__ = "retrain_request"
    __table_args__ = (Index("ix_retrain_request_model_created", "model_name", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    model_name: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(24))  # data_drift, model_drift, performance_drop, manual
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued, skipped, running, succeeded, failed
    reason: Mapped[str] = mapped_column(Text)
    drift_run_id: Mapped[int | None] = mapped_column(Integer)
    alert_id: Mapped[int | None] = mapped_column(Integer)
    job_id: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class PromotionRecord(Base):
    """The promotion ledger: every champion decision with its evidence. Append-only (database triggers)."""

    __tablename__ = "promotion_record"
    __table_args__ = (Index("ix_promotion_record_model_created", "model_name", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    model_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(16))  # promoted, rejected, observed (champion found as it was)
    champion_before: Mapped[str | None] = mapped_column(String(32))
    champion_after: Mapped[str | None] = mapped_column(String(32))
    challenger_version: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))  # auto-retrain, a key's name, registry
    retrain_request_id: Mapped[int | None] = mapped_column(Integer)
    drift_run_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
