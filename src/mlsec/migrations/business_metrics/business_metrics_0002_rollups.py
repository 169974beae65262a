"""Rollups per minute, hour and day (predictions, services, feedback, events), the collector's cursors, SLAs,
their breaches and stored reports.

Revision ID: business_metrics_0002
Revises: business_metrics_0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "business_metrics_0002"
down_revision: str | None = "business_metrics_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _bucket_key(*more: sa.Column[object]) -> list[sa.Column[object]]:
    return [
        sa.Column("resolution", sa.String(8), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        *more,
    ]


def upgrade() -> None:
    op.create_table(
        "prediction_rollup",
        *_bucket_key(
            sa.Column("service", sa.String(64), nullable=False),
            sa.Column("model_name", sa.String(100), nullable=False),
            sa.Column("model_version", sa.String(64), nullable=False),
        ),
        sa.Column("predictions", sa.BigInteger(), nullable=False),
        sa.Column("threats", sa.BigInteger(), nullable=False),
        sa.Column("latency_ms_sum", sa.Float(), nullable=False),
        sa.Column("latency_sketch", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint(
            "resolution", "bucket", "service", "model_name", "model_version", name=op.f("pk_prediction_rollup")
        ),
    )
    op.create_table(
        "service_rollup",
        *_bucket_key(sa.Column("service", sa.String(64), nullable=False)),
        sa.Column("probes", sa.Integer(), nullable=False),
        sa.Column("healthy_probes", sa.Integer(), nullable=False),
        sa.Column("observed_s", sa.Float(), nullable=False),
        sa.Column("down_s", sa.Float(), nullable=False),
        sa.Column("outages", sa.Integer(), nullable=False),
        sa.Column("cpu_s", sa.Float(), nullable=False),
        sa.Column("memory_gib_minutes", sa.Float(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("prediction_requests", sa.BigInteger(), nullable=False),
        sa.Column("prediction_errors", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("resolution", "bucket", "service", name=op.f("pk_service_rollup")),
    )
    op.create_table(
        "feedback_rollup",
        *_bucket_key(
            sa.Column("model_name", sa.String(100), nullable=False),
            sa.Column("model_version", sa.String(64), nullable=False),
        ),
        sa.Column("tp", sa.BigInteger(), nullable=False),
        sa.Column("fp", sa.BigInteger(), nullable=False),
        sa.Column("tn", sa.BigInteger(), nullable=False),
        sa.Column("fn", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("resolution", "bucket", "model_name", "model_version", name=op.f("pk_feedback_rollup")),
    )
    op.create_table(
        "event_rollup",
        *_bucket_key(
            sa.Column("kind", sa.String(32), nullable=False),
            sa.Column("model_name", sa.String(100), nullable=False),
        ),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("resolution", "bucket", "kind", "model_name", name=op.f("pk_event_rollup")),
    )
    op.create_table(
        "collect_cursor",
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_collect_cursor")),
    )
    op.create_table(
        "sla",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(100), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.Column("latency_p99_ms", sa.Float(), nullable=True),
        sa.Column("availability_min", sa.Float(), nullable=True),
        sa.Column("error_rate_max", sa.Float(), nullable=True),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla")),
        sa.UniqueConstraint("model_name", "model_version", name="uq_sla_model_name"),
    )
    op.create_table(
        "sla_breach",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("sla_id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(100), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("objective", sa.String(32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_breach")),
    )
    op.create_index(op.f("ix_sla_breach_sla_id"), "sla_breach", ["sla_id"])
    op.create_index(op.f("ix_sla_breach_model_name"), "sla_breach", ["model_name"])
    op.create_index(op.f("ix_sla_breach_detected_at"), "sla_breach", ["detected_at"])
    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report")),
    )
    op.create_index(op.f("ix_report_created_at"), "report", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_report_created_at"), table_name="report")
    op.drop_table("report")
    op.drop_index(op.f("ix_sla_breach_detected_at"), table_name="sla_breach")
    op.drop_index(op.f("ix_sla_breach_model_name"), table_name="sla_breach")
    op.drop_index(op.f("ix_sla_breach_sla_id"), table_name="sla_breach")
    op.drop_table("sla_breach")
    op.drop_table("sla")
    op.drop_table("collect_cursor")
    op.drop_table("event_rollup")
    op.drop_table("feedback_rollup")
    op.drop_table("service_rollup")
    op.drop_table("prediction_rollup")
