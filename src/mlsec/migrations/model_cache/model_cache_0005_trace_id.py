"""The prediction log's trace id: each record links to the trace of the request that made it.

Revision ID: model_cache_0005
Revises: model_cache_0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from mlsec.serving.prediction_log import add_trace_id_in_migration, drop_trace_id_in_migration

revision: str = "model_cache_0005"
down_revision: str | None = "model_cache_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_trace_id_in_migration(op)


def downgrade() -> None:
    drop_trace_id_in_migration(op)
