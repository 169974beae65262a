"""Bulk inserts at the driver's level: one INSERT compiled once per backend, executemany over plain tuples.

Ingest writes tens of thousands of span and tag rows a second. Through `conn.execute(insert(table), dicts)`
every row's dict is turned into parameters by the compiler and its JSON columns serialised one value at a time,
which costs more CPU than SQLite's own work; here the caller hands tuples in column order (JSON already text:
a resource shared by a request's spans is serialised once), and the statement SQLAlchemy compiled for the
backend goes to the driver as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


@lru_cache(maxsize=32)
def insert_sql(dialect: Dialect, table: Table, columns: tuple[str, ...], skip_existing: bool) -> str:
    """The backend's INSERT of these columns (parameters in this order), optionally ignoring stored keys."""
    stmt = (postgresql if dialect.name == "postgresql" else sqlite).insert(table)
    if skip_existing:
        stmt = stmt.on_conflict_do_nothing()
    compiled = stmt.compile(dialect=dialect, column_keys=list(columns))
    if tuple(compiled.positiontup or ()) != columns:
        raise ValueError(f"{table.name}: parameters {compiled.positiontup} are not in the order {columns}")
    return str(compiled)


async def insert_many(
    conn: AsyncConnection,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    skip_existing: bool = False,
) -> None:
    """Insert the tuples (values in `columns` order) in the open transaction."""
    if rows:
        await conn.exec_driver_sql(insert_sql(conn.dialect, table, tuple(columns), skip_existing), rows)
