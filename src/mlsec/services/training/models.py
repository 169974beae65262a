"""Tables of the training service's own database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mlsec.core.database import UtcDateTime, new_metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = new_metadata()
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UtcDateTime()}  # noqa: RUF012


class Dataset(Base):
    """One stored version of an uploaded dataset; the file lives under MLSEC_HOME/datasets."""

    __tablename__ = "dataset"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(BigInteger)
    task: Mapped[str] = mapped_column(String(32))
    text_column: Mapped[str | None] = mapped_column(String(255))
    label_column: Mapped[str] = mapped_column(String(255))
    feature_columns: Mapped[list[Any] | None] = mapped_column(JSON)
    columns: Mapped[list[Any]] = mapped_column(JSON)
    label_counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    pii_counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # None: uploaded before uploads were scanned
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DatasetSubject(Base):
    """One identifying value found in one row of a dataset version, by its keyed hash (never the value): how
    a person's rows are found again for a lookup or an erasure. `row_index` counts data rows from 0."""

    __tablename__ = "dataset_subject"
    __table_args__ = (Index("ix_dataset_subject_dataset_id_row_index", "dataset_id", "row_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    value_hash: Mapped[str] = mapped_column(String(32), index=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    row_index: Mapped[int] = mapped_column(BigInteger)


class TrainingJob(Base):
    """A training run: queued, running, then succeeded, failed or cancelled."""

    __tablename__ = "training_job"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # train | retrain
    status: Mapped[str] = mapped_column(String(16), index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[str] = mapped_column(String(64), default="queued")
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    dataset_ids: Mapped[list[Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    logs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(String(32))
    mlflow_run_id: Mapped[str | None] = mapped_column(String(64))
    mlflow_experiment_id: Mapped[str | None] = mapped_column(String(64))
    model_version: Mapped[str | None] = mapped_column(String(32))
    alias: Mapped[str | None] = mapped_column(String(32))
    training_seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class TrainingConfig(Base):
    """The stored training configuration of a model, reused by retraining."""

    __tablename__ = "training_config"

    model_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
