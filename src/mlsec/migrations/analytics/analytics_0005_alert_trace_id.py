"""An alert keeps the trace of the request or check that raised it, so the dashboard links the alert to it.
Earlier alerts have none.

Revision ID: analytics_0005
Revises: analytics_0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "analytics_0005"
down_revision: str | None = "analytics_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("drift_alert", sa.Column("trace_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drift_alert") as batch:
        batch.drop_column("trace_id")
