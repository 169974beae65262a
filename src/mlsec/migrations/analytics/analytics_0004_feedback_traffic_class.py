"""Feedback says which traffic class its prediction was (mlsec.core.traffic); performance reads production only.
Existing rows are production, as they counted before.

Revision ID: analytics_0004
Revises: analytics_0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "analytics_0004"
down_revision: str | None = "analytics_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("traffic_class", sa.String(16), nullable=False, server_default="production"))


def downgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("traffic_class")
