"""PII found in uploads: a dataset's counts per type, and the keyed hashes of the identifying values of each row.

Revision ID: training_0003
Revises: training_0002
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "training_0003"
down_revision: str | None = "training_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("dataset", sa.Column("pii_counts", sa.JSON(), nullable=True))
    op.create_table(
        "dataset_subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("value_hash", sa.String(32), nullable=False),
        sa.Column("entity_type", sa.String(32), nullable=False),
        sa.Column("row_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_subject")),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_subject_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_dataset_subject_value_hash"), "dataset_subject", ["value_hash"])
    op.create_index("ix_dataset_subject_dataset_id_row_index", "dataset_subject", ["dataset_id", "row_index"])


def downgrade() -> None:
    op.drop_table("dataset_subject")
    with op.batch_alter_table("dataset") as batch:
        batch.drop_column("pii_counts")
