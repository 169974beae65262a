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

from sqlalchemy import Dialect, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


@lru_cache(maxsize=32)
def insert_sql(dialect: Dialect, table: Table, columns: tuple[str, ...], skip_existing: bool) -> str:
    """The backend's INSERT of these columns (parameters in this order), optionally ignoring stored keys."""
    stmt = (postgresql if dialect.name == "postgresql" else sqlite).insert(table)
    if skip_existing:
        stmt = stmt.on_conflict_do_nothing()
    return compiled_sql(dialect, stmt, columns)


def compiled_sql(dialect: Dialect, stmt: Insert, columns: tuple[str, ...]) -> str:
    """An INSERT (an upsert too) compiled for the backend, its parameters checked to be in `columns` order; the
    caller caches it, and passes tuples to `insert_many_sql` (no compilation nor cache key per call)."""
    compiled = stmt.compile(dialect=dialect, column_keys=list(columns))
    if tuple(compiled.positiontup or ()) != columns:
        raise ValueError(f"{stmt.table}: parameters {compiled.positiontup} are not in the order {columns}")
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


async def select_in(conn: AsyncConnection, table: Table, column: str, values: list[str]) -> list[Any]:
    """The values of `column` among `values` that are stored (one query, through the column's index)."""
    return [row[0] for row in await select_where_in(conn, table, (column,), column, values)]


async def select_where_in(
    conn: AsyncConnection, table: Table, columns: Sequence[str], column: str, values: list[str]
) -> list[tuple[Any, ...]]:
    """The `columns` of the rows whose `column` is one of `values` (one query, through that column's index)."""
    if not values:
        return []
    names = ", ".join(f'"{table.c[name].name}"' for name in columns)
    key = f'"{table.c[column].name}"'
    parameters: tuple[Any, ...]
    if conn.dialect.name == "postgresql":
        where, parameters = f"{key} = ANY($1::text[])", (values,)
    else:
        where, parameters = f"{key} IN ({', '.join(['?'] * len(values))})", tuple(values)
    result = await conn.exec_driver_sql(f'SELECT {names} FROM "{table.name}" WHERE {where}', parameters)  # noqa: S608
    return [tuple(row) for row in result]


async def select_by_pairs(
    conn: AsyncConnection, table: Table, columns: Sequence[str], key: tuple[str, str], pairs: list[tuple[str, str]]
) -> list[tuple[Any, ...]]:
    """The `columns` of the rows whose two `key` columns equal one of `pairs`, through their index.

    A row-value IN list (SQLite) or two arrays unnested (PostgreSQL: two parameters whatever the count),
    written here rather than with `tuple_().in_()`, whose expansion SQLAlchemy renders anew for every call at
    about 10 µs a pair. Names come from the table, values are bound parameters."""
    if not pairs:
        return []
    names = ", ".join(f'"{table.c[column].name}"' for column in columns)
    first, second = (f'"{table.c[column].name}"' for column in key)
    if conn.dialect.name == "postgresql":
        where = f"({first}, {second}) IN (SELECT * FROM unnest($1::text[], $2::text[]))"  # noqa: S608
        parameters: tuple[Any, ...] = ([a for a, _ in pairs], [b for _, b in pairs])
    else:
        where = f"({first}, {second}) IN (VALUES {', '.join(['(?, ?)'] * len(pairs))})"
        parameters = tuple(value for pair in pairs for value in pair)
    sql = f'SELECT {names} FROM "{table.name}" WHERE {where}'  # noqa: S608  # names from the model, values bound
    result = await conn.exec_driver_sql(sql, parameters)
    return [tuple(row) for row in result]
