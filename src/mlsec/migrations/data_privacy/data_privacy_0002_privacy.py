"""Classifications, data subjects and their identifiers, consent, erasures, retention policies and the audit chain.

Revision ID: data_privacy_0002
Revises: data_privacy_0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "data_privacy_0002"
down_revision: str | None = "data_privacy_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "classification",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("text_length", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("caller", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classification")),
    )
    op.create_index("ix_classification_created_at", "classification", ["created_at"])
    op.create_index(op.f("ix_classification_level"), "classification", ["level"])
    op.create_table(
        "data_subject",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("erased_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_subject")),
    )
    op.create_table(
        "subject_identifier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(100), nullable=False),
        sa.Column("entity_type", sa.String(32), nullable=False),
        sa.Column("value_hash", sa.String(32), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subject.id"],
            name=op.f("fk_subject_identifier_subject_id_data_subject"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_identifier")),
        sa.UniqueConstraint("subject_id", "value_hash", name=op.f("uq_subject_identifier_subject_id")),
    )
    op.create_index(op.f("ix_subject_identifier_value_hash"), "subject_identifier", ["value_hash"])
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(100), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("policy_version", sa.String(64), nullable=True),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["data_subject.id"], name=op.f("fk_consent_subject_id_data_subject"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
        sa.UniqueConstraint("subject_id", "purpose", "version", name=op.f("uq_consent_subject_id")),
    )
    op.create_index(op.f("ix_consent_subject_id"), "consent", ["subject_id"])
    op.create_table(
        "erasure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("requested_at", WHEN, nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure")),
    )
    op.create_index(op.f("ix_erasure_subject_id"), "erasure", ["subject_id"])
    op.create_table(
        "retention_policy",
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("max_age_days", sa.Integer(), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("category", name=op.f("pk_retention_policy")),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_entry_seq")),
    )
    op.create_index(op.f("ix_audit_entry_created_at"), "audit_entry", ["created_at"])
    op.create_index(op.f("ix_audit_entry_actor"), "audit_entry", ["actor"])
    op.create_index(op.f("ix_audit_entry_action"), "audit_entry", ["action"])
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("head_seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("pruned_seq", sa.BigInteger(), nullable=False),
        sa.Column("pruned_hash", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )


def downgrade() -> None:
    for table in (
        "audit_chain",
        "audit_entry",
        "retention_policy",
        "erasure",
        "consent",
        "subject_identifier",
        "data_subject",
        "classification",
    ):
        op.drop_table(table)
