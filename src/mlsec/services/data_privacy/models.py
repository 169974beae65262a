"""Tables of the data-privacy database. No table holds a raw personal value: texts are kept as keyed hashes and
lengths, a subject's identifiers as keyed hashes (mlsec.ml.pii.subjects)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mlsec.core.database import UtcDateTime, new_metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = new_metadata()
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


class Classification(Base):
    """One classified text: its level and counts, and a keyed hash of the text instead of the text."""

    __tablename__ = "classification"
    __table_args__ = (Index("ix_classification_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    level: Mapped[str] = mapped_column(String(16), index=True)
    text_hash: Mapped[str] = mapped_column(String(64), doc="HMAC-SHA256 of the text under the deployment's key.")
    text_length: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict[str, Any]] = mapped_column()
    reasons: Mapped[list[Any]] = mapped_column()
    caller: Mapped[str] = mapped_column(String(100))


class DataSubject(Base):
    """A person the platform was told about, by identifiers it keeps only as keyed hashes."""

    __tablename__ = "data_subject"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="active", doc="active, erasure_pending or erased.")
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    erased_at: Mapped[datetime | None] = mapped_column(nullable=True)


class SubjectIdentifier(Base):
    """One identifier of a subject (an e-mail address, a phone number, ...) as its keyed hash."""

    __tablename__ = "subject_identifier"
    __table_args__ = (UniqueConstraint("subject_id", "value_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(100), ForeignKey("data_subject.id", ondelete="CASCADE"))
    entity_type: Mapped[str] = mapped_column(String(32))
    value_hash: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Consent(Base):
    """One version of one subject's consent for one purpose; the newest version is the one in force."""

    __tablename__ = "consent"
    __table_args__ = (UniqueConstraint("subject_id", "purpose", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(100), ForeignKey("data_subject.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str | None] = mapped_column(String(200), nullable=True)
    policy_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(100))


class Erasure(Base):
    """One erasure request and what each store answered."""

    __tablename__ = "erasure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(16), doc="completed, or partial when a store could not be reached.")
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    report: Mapped[dict[str, Any]] = mapped_column()


class RetentionPolicy(Base):
    """How long one category of data is kept; no row, or a null period, keeps it forever."""

    __tablename__ = "retention_policy"

    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    max_age_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))


class AuditEntry(Base):
    """One entry of the append-only audit log: `hash` covers every field and the previous entry's hash."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column()
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChain(Base):
    """The chain's head (its last entry), locked by each append so that appends form one line, and where
    retention cut the chain (entries up to `pruned_seq` deleted; the first kept one follows `pruned_hash`)."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    head_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))
    pruned_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    pruned_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
