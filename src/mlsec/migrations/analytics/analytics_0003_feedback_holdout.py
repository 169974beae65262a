"""Feedback remembers which side of the held-out split it is on (`holdout`), so that every reader (the
production-data export, auto-retrain, promotion) can select a side in SQL; existing rows are filled in.

The rule is the one `mlsec.services.analytics.service.feedback_data.is_holdout` applies at insert, copied here on
purpose: a migration must keep doing what it did when it was written, whatever the code becomes.

Revision ID: analytics_0003
Revises: analytics_0002
Create Date: 2026-11-23
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "analytics_0003"
down_revision: str | None = "analytics_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HOLDOUT_BELOW = int(256 * 0.3)  # texts whose SHA-256 starts with a byte below 30% of 256
_PAGE = 5_000
_feedback = sa.table("feedback", sa.column("id", sa.Integer()), sa.column("text", sa.Text()), sa.column("holdout"))


def upgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("holdout", sa.Boolean(), nullable=False, server_default=sa.false()))
    connection = op.get_bind()
    last = 0
    while True:  # keyset pages: a large table is never read into memory at once
        page = connection.execute(
            sa.select(_feedback.c.id, _feedback.c.text)
            .where(_feedback.c.id > last, _feedback.c.text.is_not(None))
            .order_by(_feedback.c.id)
            .limit(_PAGE)
        ).all()
        if not page:
            return
        last = page[-1][0]
        held = [row_id for row_id, text in page if hashlib.sha256(text.encode()).digest()[0] < _HOLDOUT_BELOW]
        if held:
            connection.execute(sa.update(_feedback).where(_feedback.c.id.in_(held)).values(holdout=True))


def downgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("holdout")
