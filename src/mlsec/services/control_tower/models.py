"""Tables of the control tower's database: the monitored model versions (seed 004 kept them in memory; here they
survive restarts, with who added them and when)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mlsec.core.database import UtcDateTime, new_metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = new_metadata()
    type_annotation_map = {datetime: UtcDateTime()}  # noqa: RUF012


class MonitoredModel(Base):
    """One model version under monitoring."""

    __tablename__ = "monitored_model"
    __table_args__ = (UniqueConstraint("model_name", "model_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(64))
    model_type: Mapped[str] = mapped_column(String(16))
    registered_by: Mapped[str] = mapped_column(String(200), doc="Who the client said is adding it (the seed's field).")
    added_by: Mapped[str] = mapped_column(String(200), doc="The caller the platform authenticated.")
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
