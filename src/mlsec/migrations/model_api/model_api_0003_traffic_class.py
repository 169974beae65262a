"""The prediction log's traffic class (production, redteam, evaluation, synthetic).

Revision ID: model_api_0003
Revises: model_api_0002
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

from mlsec.serving.prediction_log import add_traffic_class_in_migration, drop_traffic_class_in_migration

revision: str = "model_api_0003"
down_revision: str | None = "model_api_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_traffic_class_in_migration(op)


def downgrade() -> None:
    drop_traffic_class_in_migration(op)
