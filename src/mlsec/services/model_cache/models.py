"""Tables of the model cache's own database: its prediction log, stored config and event log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mlsec.core.database import UtcDateTime, new_metadata
from mlsec.serving.prediction_log import prediction_log_table


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = new_metadata()
    type_annotation_map = {dict[str, Any]: JSON, datetime: UtcDateTime()}  # noqa: RUF012


prediction_log = prediction_log_table(Base.metadata)


class CacheConfig(Base):
    """The cache's configuration (one row), kept across restarts."""

    __tablename__ = "cache_config"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CacheEvent(Base):
    """Something the cache did to a model: loaded, evicted, swapped, failed to load."""

    __tablename__ = "cache_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    model_name: Mapped[str] = mapped_column(String(100), index=True)
    model_version: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
