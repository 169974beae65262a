"""The prediction log.

Revision ID: model_api_0002
Revises: model_api_0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

from mlsec.serving.prediction_log import create_table_in_migration, drop_table_in_migration

revision: str = "model_api_0002"
down_revision: str | None = "model_api_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_table_in_migration(op)


def downgrade() -> None:
    drop_table_in_migration(op)
