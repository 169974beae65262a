"""Migration analytics_0003 marks the held-out side of feedback recorded before the side was stored, exactly
as `is_holdout` does for new feedback, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from mlsec.core.database import Database, ensure_database
from mlsec.core.migrations import alembic_config, upgrade_to_head
from mlsec.core.settings import Settings
from mlsec.services.analytics.service.feedback_data import is_holdout

pytestmark = pytest.mark.anyio


def _to(connection: Any, revision: str) -> None:
    command.upgrade(alembic_config("analytics", connection=connection), revision)


async def test_existing_feedback_gets_its_side_of_the_split(db_settings: Settings) -> None:
    url = db_settings.database_url_for("analytics")
    await ensure_database(url)
    db = Database(url)
    texts = [f"older feedback {i}" for i in range(300)]
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(_to, "analytics_0002")
            feedback = sa.table(
                "feedback",
                *(
                    sa.column(name)
                    for name in (
                        "created_at",
                        "model_name",
                        "model_version",
                        "prediction",
                        "true_label",
                        "text",
                        "source",
                    )
                ),
            )
            rows = [
                {
                    "created_at": datetime.now(UTC),
                    "model_name": "guard",
                    "model_version": "1",
                    "prediction": "0",
                    "true_label": "0",
                    "text": text,
                    "source": "api",
                }
                for text in [*texts, None]
            ]
            await conn.execute(sa.insert(feedback), rows)
        await upgrade_to_head(db, "analytics")
        async with db.engine.connect() as conn:
            stored = (await conn.execute(sa.text("SELECT text, holdout FROM feedback"))).all()
    finally:
        await db.dispose()
    assert len(stored) == len(texts) + 1
    assert {text: bool(holdout) for text, holdout in stored if text is not None} == {t: is_holdout(t) for t in texts}
    assert any(bool(holdout) for _, holdout in stored)
    assert [bool(holdout) for text, holdout in stored if text is None] == [False]
