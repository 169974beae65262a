"""Files that hold secrets are their owner's only, whatever the umask: folders 0700, files 0600.

Each test runs under a permissive umask (002, as on many desktops) so that a mode left to the umask shows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from mlsec.core.database import Database
from mlsec.core.files import private_dir, private_file, tighten, write_private
from mlsec.core.settings import Settings
from mlsec.services.tracing.app import create_app as create_tracing
from tests.conftest import started_client
from tests.files_support import mode, permissive_umask  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("permissive_umask")


def test_folders_are_created_0700_with_the_missing_ones_above(tmp_path: Path) -> None:
    deep = private_dir(tmp_path / "home" / "db")
    assert deep.is_dir()
    assert (mode(tmp_path / "home"), mode(deep)) == (0o700, 0o700)
    assert mode(tmp_path) == 0o700  # pytest's own folder, untouched: it existed


def test_files_are_created_0600_and_written_whole(tmp_path: Path) -> None:
    created = private_file(tmp_path / "service.log")
    assert (mode(created), created.read_text()) == (0o600, "")
    write_private(tmp_path / "run" / "service-token", "secret\n")
    assert mode(tmp_path / "run") == 0o700
    assert (mode(tmp_path / "run" / "service-token"), (tmp_path / "run" / "service-token").read_text()) == (
        0o600,
        "secret\n",
    )
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["service-token"]  # no temporary file left


def test_paths_found_wider_are_tightened_and_kept(tmp_path: Path) -> None:
    folder, log = tmp_path / "logs", tmp_path / "logs" / "gateway.log"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    log.write_text("earlier lines\n")
    log.chmod(0o644)
    private_file(private_dir(folder) / log.name)
    assert (mode(folder), mode(log), log.read_text()) == (0o700, 0o600, "earlier lines\n")
    log.chmod(0o640)
    tighten(log)
    tighten(tmp_path / "missing")  # nothing to do
    assert mode(log) == 0o600


async def _write_something(db: Database) -> None:
    async with db.session() as session:
        await session.execute(text("CREATE TABLE IF NOT EXISTS note (body TEXT)"))
        await session.execute(text("INSERT INTO note VALUES ('x')"))


@pytest.mark.anyio
async def test_a_sqlite_database_and_its_side_files_are_private(settings: Settings) -> None:
    path = settings.home.resolve() / "db" / "gateway.db"
    db = Database(settings.database_url_for("gateway"))
    try:
        await _write_something(db)
        side = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
        assert all(file.exists() for file in side)  # WAL mode: both live while a connection is open
        assert {file.name: mode(file) for file in (path, *side)} == {
            "gateway.db": 0o600,
            "gateway.db-wal": 0o600,
            "gateway.db-shm": 0o600,
        }
        assert mode(path.parent) == 0o700
    finally:
        await db.dispose()
    for file in (path, path.with_name("gateway.db-wal")):  # an older version's files
        if file.exists():
            file.chmod(0o644)
    db = Database(settings.database_url_for("gateway"))
    try:
        await _write_something(db)
        modes = {file.name: mode(file) for file in path.parent.iterdir()}
        assert modes and set(modes.values()) == {0o600}, modes
    finally:
        await db.dispose()


@pytest.mark.anyio
async def test_a_service_keeps_its_home_private(settings: Settings) -> None:
    settings.home.mkdir(mode=0o755)
    settings.home.chmod(0o755)  # made by hand, or by an older version
    async for http in started_client(create_tracing(settings)):
        assert (await http.get("/health/ready")).status_code == 200
        assert mode(settings.home) == 0o700
        assert mode(settings.home / "db") == 0o700
        assert mode(settings.home / "db" / "tracing.db") == 0o600
