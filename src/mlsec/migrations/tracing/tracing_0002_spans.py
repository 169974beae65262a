"""Spans, one summary row per trace, span tags for search and the service map's edges per minute.

Revision ID: tracing_0002
Revises: tracing_0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "tracing_0002"
down_revision: str | None = "tracing_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "span",
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.Column("parent_span_id", sa.String(16), nullable=True),
        sa.Column("service", sa.String(128), nullable=False),
        sa.Column("operation", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("start_us", sa.BigInteger(), nullable=False),
        sa.Column("duration_us", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("status_message", sa.String(512), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("resource", sa.JSON(), nullable=False),
        sa.Column("received_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("trace_id", "span_id", name=op.f("pk_span")),
    )
    op.create_index("ix_span_service_operation_start", "span", ["service", "operation", "start_us"])
    op.create_index("ix_span_start", "span", ["start_us"])
    op.create_index("ix_span_parent", "span", ["trace_id", "parent_span_id"])
    op.create_table(
        "trace",
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("start_us", sa.BigInteger(), nullable=False),
        sa.Column("end_us", sa.BigInteger(), nullable=False),
        sa.Column("duration_us", sa.BigInteger(), nullable=False),
        sa.Column("span_count", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("root_service", sa.String(128), nullable=True),
        sa.Column("root_operation", sa.String(256), nullable=True),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("trace_id", name=op.f("pk_trace")),
    )
    op.create_index("ix_trace_start", "trace", ["start_us"])
    op.create_index("ix_trace_duration", "trace", ["duration_us"])
    op.create_index("ix_trace_root_service_start", "trace", ["root_service", "start_us"])
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
    op.create_index("ix_span_tag_key_value", "span_tag", ["key", "value", "trace_id"])
    op.create_index(op.f("ix_span_tag_trace_id"), "span_tag", ["trace_id"])
    op.create_table(
        "service_edge",
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("duration_us_sum", sa.BigInteger(), nullable=False),
        sa.Column("duration_us_max", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("minute", "source", "target", name=op.f("pk_service_edge")),
    )


def downgrade() -> None:
    op.drop_table("service_edge")
    op.drop_index(op.f("ix_span_tag_trace_id"), table_name="span_tag")
    op.drop_index("ix_span_tag_key_value", table_name="span_tag")
    op.drop_table("span_tag")
    op.drop_index("ix_trace_root_service_start", table_name="trace")
    op.drop_index("ix_trace_duration", table_name="trace")
    op.drop_index("ix_trace_start", table_name="trace")
    op.drop_table("trace")
    op.drop_index("ix_span_parent", table_name="span")
    op.drop_index("ix_span_start", table_name="span")
    op.drop_index("ix_span_service_operation_start", table_name="span")
    op.drop_table("span")
