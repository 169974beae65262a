"""The database layer and every service's migrations, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, String, Table, select, text

from mlsec.core.database import Database, ensure_database, new_metadata
from mlsec.core.migrations import current_revision, head_revision, upgrade_to_head
from mlsec.core.services import SERVICES
from mlsec.core.settings import Settings

pytestmark = pytest.mark.anyio


async def test_every_service_migrates_to_head_and_again_idempotently(db_settings: Settings) -> None:
    for spec in SERVICES:
        url = db_settings.database_url_for(spec)
        await ensure_database(url)
        db = Database(url)
        try:
            assert await current_revision(db) is None
            await upgrade_to_head(db, spec.key)
            await upgrade_to_head(db, spec.key)
            assert await current_revision(db) == head_revision(spec.key)
            assert head_revision(spec.key) is not None
        finally:
            await db.dispose()


async def test_session_commits_on_success_and_rolls_back_on_error(db_settings: Settings) -> None:
    url = db_settings.database_url_for("tracing")
    await ensure_database(url)
    db = Database(url)
    metadata = new_metadata()
    note = Table("note", metadata, Column("id", Integer, primary_key=True), Column("body", String(50)))
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        async with db.session() as session:
            await session.execute(note.insert().values(body="kept"))
        with pytest.raises(RuntimeError):  # noqa: PT012 - the block is the transaction under test
            async with db.session() as session:
                await session.execute(note.insert().values(body="lost"))
                raise RuntimeError("boom")
        async with db.session() as session:
            bodies = (await session.execute(select(note.c.body))).scalars().all()
        assert bodies == ["kept"]
    finally:
        await db.dispose()


async def test_ping_fails_on_an_unreachable_database() -> None:
    db = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        with pytest.raises(OSError, match=r"refused|Connect call failed"):
            await db.ping()
    finally:
        await db.dispose()


async def test_sqlite_uses_wal_and_creates_its_folder(settings: Settings) -> None:
    db = Database(settings.database_url_for("gateway"))
    try:
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (settings.home / "db" / "gateway.db").exists()
    finally:
        await db.dispose()


async def test_ensure_database_refuses_odd_names() -> None:
    with pytest.raises(ValueError, match="unusual name"):
        await ensure_database('postgresql+asyncpg://u@127.0.0.1:1/bad"name')
