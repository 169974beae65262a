"""Baseline of the tracing database: the history starts here; domain tables follow.

Revision ID: tracing_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

revision: str = "tracing_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to create yet; stamping the baseline proves the database is managed."""


def downgrade() -> None:
    """Nothing to drop."""
