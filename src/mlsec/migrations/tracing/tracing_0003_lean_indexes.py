"""Fewer index writes per span: the span tags become one b-tree keyed by (key, value, trace id, span id), without
a surrogate id, a start time or a trace id index, and the span table loses its (trace id, parent span id) index
(the primary key's trace id prefix serves those lookups). Existing tags are kept.

Revision ID: tracing_0003
Revises: tracing_0002
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "tracing_0003"
down_revision: str | None = "tracing_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _set_aside(table: str, indexes: Sequence[str]) -> None:
    """Rename `table` to `<table>_old` with its indexes dropped and its primary key renamed, so that the new table
    can take the names (PostgreSQL keeps a constraint's name across a table rename)."""
    for index in indexes:
        op.drop_index(index, table_name=table)
    op.rename_table(table, f"{table}_old")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'ALTER TABLE "{table}_old" RENAME CONSTRAINT "pk_{table}" TO "pk_{table}_old"')


def upgrade() -> None:
    op.drop_index("ix_span_parent", table_name="span")
    _set_aside("span_tag", ["ix_span_tag_key_value", "ix_span_tag_trace_id"])
    op.create_table(
        "span_tag",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("key", "value", "trace_id", "span_id", name=op.f("pk_span_tag")),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO span_tag (key, value, trace_id, span_id) "
        "SELECT DISTINCT key, value, trace_id, span_id FROM span_tag_old"
    )
    op.drop_table("span_tag_old")


def downgrade() -> None:
    _set_aside("span_tag", [])
    op.create_table(
        "span_tag",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.Column("start_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_span_tag")),
    )
    op.execute(
        "INSERT INTO span_tag (trace_id, span_id, key, value, start_us) "
        "SELECT t.trace_id, t.span_id, t.key, t.value, s.start_us FROM span_tag_old t "
        "JOIN span s ON s.trace_id = t.trace_id AND s.span_id = t.span_id"
    )
    op.drop_table("span_tag_old")
    op.create_index("ix_span_tag_key_value", "span_tag", ["key", "value", "trace_id"])
    op.create_index(op.f("ix_span_tag_trace_id"), "span_tag", ["trace_id"])
    op.create_index("ix_span_parent", "span", ["trace_id", "parent_span_id"])
