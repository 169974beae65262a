"""Monitored model versions, with who added them and when.

Revision ID: control_tower_0002
Revises: control_tower_0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "control_tower_0002"
down_revision: str | None = "control_tower_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitored_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(100), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("model_type", sa.String(16), nullable=False),
        sa.Column("registered_by", sa.String(200), nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitored_model")),
        sa.UniqueConstraint("model_name", "model_version", name=op.f("uq_monitored_model_model_name")),
    )


def downgrade() -> None:
    op.drop_table("monitored_model")
