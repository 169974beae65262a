"""Datasets, training jobs and training configs.

Revision ID: training_0002
Revises: training_0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "training_0002"
down_revision: str | None = "training_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("text_column", sa.String(255), nullable=True),
        sa.Column("label_column", sa.String(255), nullable=False),
        sa.Column("feature_columns", sa.JSON(), nullable=True),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("label_counts", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_dataset_name")),
    )
    op.create_index(op.f("ix_dataset_name"), "dataset", ["name"])
    op.create_index(op.f("ix_dataset_sha256"), "dataset", ["sha256"])
    op.create_table(
        "training_job",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("model_name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("dataset_ids", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("logs", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("failure_reason", sa.String(32), nullable=True),
        sa.Column("mlflow_run_id", sa.String(64), nullable=True),
        sa.Column("mlflow_experiment_id", sa.String(64), nullable=True),
        sa.Column("model_version", sa.String(32), nullable=True),
        sa.Column("alias", sa.String(32), nullable=True),
        sa.Column("training_seconds", sa.Float(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("started_at", _TS, nullable=True),
        sa.Column("finished_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_job")),
    )
    op.create_index(op.f("ix_training_job_model_name"), "training_job", ["model_name"])
    op.create_index(op.f("ix_training_job_status"), "training_job", ["status"])
    op.create_index(op.f("ix_training_job_created_at"), "training_job", ["created_at"])
    op.create_table(
        "training_config",
        sa.Column("model_name", sa.String(100), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("model_name", name=op.f("pk_training_config")),
    )


def downgrade() -> None:
    op.drop_table("training_config")
    op.drop_table("training_job")
    op.drop_table("dataset")
