"""Each service's SQLAlchemy tables equal what its migrations create (no drift between the two)."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData

from mlsec.core.database import Database
from mlsec.core.migrations import upgrade_to_head
from mlsec.core.services import SERVICES
from mlsec.core.settings import Settings

pytestmark = pytest.mark.anyio


WITH_TABLES = [s.key for s in SERVICES if importlib.util.find_spec(f"mlsec.services.{s.key}.models") is not None]


@pytest.mark.parametrize("key", WITH_TABLES)
async def test_migrations_create_exactly_the_models(key: str, settings: Settings) -> None:
    metadata: MetaData = importlib.import_module(f"mlsec.services.{key}.models").Base.metadata
    db = Database(settings.database_url_for(key))
    try:
        await upgrade_to_head(db, key, metadata)

        def diff(connection: Any) -> list[Any]:
            return list(compare_metadata(MigrationContext.configure(connection), metadata))

        async with db.engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await db.dispose()
