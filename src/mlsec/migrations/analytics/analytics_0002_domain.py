"""Analytics' domain tables: drift runs and alerts, feedback, red-team runs, monitoring configs, and the
append-only promotion ledger (triggers refuse UPDATE and DELETE on it, on SQLite and PostgreSQL alike).

Revision ID: analytics_0002
Revises: analytics_0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "analytics_0002"
down_revision: str | None = "analytics_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGER = "promotion_record"
_SQLITE_GUARDS = [
    f"CREATE TRIGGER {LEDGER}_append_only_{verb} BEFORE {verb.upper()} ON {LEDGER} "
    f"BEGIN SELECT RAISE(ABORT, '{LEDGER} is append-only'); END"
    for verb in ("update", "delete")
]
_POSTGRES_GUARDS = [
    f"CREATE FUNCTION {LEDGER}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{LEDGER} is append-only'; END $$",
    f"CREATE TRIGGER {LEDGER}_append_only BEFORE UPDATE OR DELETE ON {LEDGER} "
    f"FOR EACH ROW EXECUTE FUNCTION {LEDGER}_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "drift_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_name", sa.String(length=100), nullable=True),
        sa.Column("model_version", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("drift_run_id", sa.Integer(), nullable=True),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("notifications", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_alert")),
    )
    op.create_index(op.f("ix_drift_alert_created_at"), "drift_alert", ["created_at"], unique=False)
    op.create_index(op.f("ix_drift_alert_model_name"), "drift_alert", ["model_name"], unique=False)
    op.create_index(op.f("ix_drift_alert_status"), "drift_alert", ["status"], unique=False)
    op.create_table(
        "drift_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("model_name", sa.String(length=100), nullable=True),
        sa.Column("model_version", sa.String(length=32), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reference_rows", sa.Integer(), nullable=False),
        sa.Column("current_rows", sa.Integer(), nullable=False),
        sa.Column("drift_detected", sa.Boolean(), nullable=False),
        sa.Column("model_drift", sa.Boolean(), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("drifted_features", sa.JSON(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_run")),
    )
    op.create_index(op.f("ix_drift_run_created_at"), "drift_run", ["created_at"], unique=False)
    op.create_index("ix_drift_run_model_created", "drift_run", ["model_name", "created_at"], unique=False)
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("predicted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("model_version", sa.String(length=32), nullable=False),
        sa.Column("prediction", sa.String(length=100), nullable=False),
        sa.Column("true_label", sa.String(length=100), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    op.create_index("ix_feedback_model_created", "feedback", ["model_name", "created_at"], unique=False)
    op.create_table(
        "promotion_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("champion_before", sa.String(length=32), nullable=True),
        sa.Column("champion_after", sa.String(length=32), nullable=True),
        sa.Column("challenger_version", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("retrain_request_id", sa.Integer(), nullable=True),
        sa.Column("drift_run_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_record")),
    )
    op.create_index("ix_promotion_record_model_created", "promotion_record", ["model_name", "created_at"], unique=False)
    op.create_table(
        "redteam_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("model_version", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("detected", sa.Integer(), nullable=False),
        sa.Column("detection_rate", sa.Float(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redteam_run")),
    )
    op.create_index("ix_redteam_run_model_created", "redteam_run", ["model_name", "created_at"], unique=False)
    op.create_table(
        "monitoring_config",
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model_name", name=op.f("pk_monitoring_config")),
    )
    op.create_table(
        "retrain_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("trigger", sa.String(length=24), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("drift_run_id", sa.Integer(), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retrain_request")),
    )
    op.create_index("ix_retrain_request_model_created", "retrain_request", ["model_name", "created_at"], unique=False)
    op.create_index(op.f("ix_retrain_request_status"), "retrain_request", ["status"], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRES_GUARDS if dialect == "postgresql" else _SQLITE_GUARDS if dialect == "sqlite" else []:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {LEDGER}_append_only() CASCADE")
    op.drop_index(op.f("ix_retrain_request_status"), table_name="retrain_request")
    op.drop_index("ix_retrain_request_model_created", table_name="retrain_request")
    op.drop_table("retrain_request")
    op.drop_table("monitoring_config")
    op.drop_index("ix_redteam_run_model_created", table_name="redteam_run")
    op.drop_table("redteam_run")
    op.drop_index("ix_promotion_record_model_created", table_name="promotion_record")
    op.drop_table("promotion_record")
    op.drop_index("ix_feedback_model_created", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_drift_run_model_created", table_name="drift_run")
    op.drop_index(op.f("ix_drift_run_created_at"), table_name="drift_run")
    op.drop_table("drift_run")
    op.drop_index(op.f("ix_drift_alert_status"), table_name="drift_alert")
    op.drop_index(op.f("ix_drift_alert_model_name"), table_name="drift_alert")
    op.drop_index(op.f("ix_drift_alert_created_at"), table_name="drift_alert")
    op.drop_table("drift_alert")
