"""Alembic migrations per service, applied at start-up.

One `env.py` serves every service; each service keeps its own history under
`mlsec/migrations/<service>/` (inside the package, so an installed wheel carries them).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from mlsec.core.database import Database, new_metadata

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(
    service_key: str, *, connection: Connection | None = None, metadata: MetaData | None = None
) -> Config:
    """An Alembic config pointing at one service's history (no alembic.ini needed)."""
    versions = MIGRATIONS_DIR / service_key
    if not versions.is_dir():
        raise FileNotFoundError(f"no migration history for service {service_key!r} at {versions}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_locations", str(versions))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    config.attributes["target_metadata"] = metadata if metadata is not None else new_metadata()
    return config


def head_revision(service_key: str) -> str | None:
    """The newest revision of a service's history."""
    return ScriptDirectory.from_config(alembic_config(service_key)).get_current_head()


def _upgrade(connection: Connection, service_key: str, metadata: MetaData | None) -> None:
    command.upgrade(alembic_config(service_key, connection=connection, metadata=metadata), "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_to_head(db: Database, service_key: str, metadata: MetaData | None = None) -> None:
    """Bring a service's database to the newest revision of its history."""
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade, service_key, metadata)


async def current_revision(db: Database) -> str | None:
    """The revision a database is at (None before the first migration)."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)
