"""The cache's stored configuration and its event log.

Revision ID: model_cache_0003
Revises: model_cache_0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "model_cache_0003"
down_revision: str | None = "model_cache_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cache_config",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cache_config")),
    )
    op.create_table(
        "cache_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("model_name", sa.String(100), nullable=False),
        sa.Column("model_version", sa.String(32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cache_event")),
    )
    op.create_index(op.f("ix_cache_event_model_name"), "cache_event", ["model_name"])
    op.create_index(op.f("ix_cache_event_created_at"), "cache_event", ["created_at"])


def downgrade() -> None:
    op.drop_table("cache_event")
    op.drop_table("cache_config")
