"""What a request may carry, checked at the edge so that no input reaches SQL or date arithmetic it cannot fit.

Every route takes its offsets, row ids and times through these types (query, path and body alike), so an id of
2**63 or a time of year 9999 at -23:59 is a 422 in the error envelope, never an OverflowError (500) from the
database driver. FastAPI renders the bounds in the OpenAPI schema as `minimum`/`maximum`.

Times: an ISO 8601 string (the OpenAPI `date-time`; a number is refused, not read as seconds since 1970). A time
with an offset is converted to UTC; a time without one is read as UTC (the platform stores UTC and has always
read naive times so, see `as_utc`). A time that has no UTC equivalent (before year 1 or after year 9999 once its
offset is applied) is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

MAX_INT32: Final = 2**31 - 1
"""The largest SQL `integer` (PostgreSQL int4): the ids of tables keyed by SQLAlchemy's `Integer`."""
MAX_INT64: Final = 2**63 - 1
"""The largest SQL `bigint` (and SQLite INTEGER): offsets, and the ids of `BigInteger` keys."""
MAX_TEXT_CHARS: Final = 20_000
"""The longest text a prediction accepts by default (the serving services' `MAX_TEXT_CHARS`); the gateway
applies whatever the serving service it forwards to is configured with, so both always agree."""

Offset = Annotated[int, Field(ge=0, le=MAX_INT64, description="Rows to skip.")]
"""How many rows a page skips (SQL OFFSET is a bigint)."""
RowId = Annotated[int, Field(ge=1, le=MAX_INT32)]
"""The id of a row keyed by an SQL `integer` (ids start at 1)."""
BigRowId = Annotated[int, Field(ge=0, le=MAX_INT64)]
"""A position in a table keyed by an SQL `bigint`: 0 is before the first row (an `after_id` cursor)."""
Count32 = Annotated[int, Field(ge=0, le=MAX_INT32)]
"""A count stored in an SQL `integer` column."""

NAME_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
"""A registered model's (or a dataset's) name: what MLflow, file names and URLs all accept unescaped."""
VERSION_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
"""A model version: a number or an alias (`champion`, `challenger`)."""

ModelName = Annotated[str, Field(pattern=NAME_PATTERN, description="Registered model name.")]
"""A model name in a request or response body."""
ModelNamePath = Annotated[str, Path(pattern=NAME_PATTERN, description="Registered model name.")]
"""A model name in a route's path (`/models/{model_name}`)."""
ModelNameQuery = Annotated[str | None, Query(pattern=NAME_PATTERN, description="Only this registered model.")]
"""An optional model name that filters a listing (`?model_name=`)."""
ModelVersion = Annotated[str, Field(pattern=VERSION_PATTERN, description="A version number or an alias.")]
"""A model version or alias in a request or response body."""
ModelVersionPath = Annotated[str, Path(pattern=VERSION_PATTERN, description="A version number or an alias.")]
"""A model version or alias in a route's path."""


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime: naive values (SQLite hands them back, clients may send them) are UTC.
    OverflowError when an aware value has no UTC equivalent; `UtcDatetime` refuses those at the edge."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _not_a_number(value: object) -> object:
    """Pydantic would read a number (or a string of one) as seconds since 1970: `since=2026` would mean
    1970-01-01T00:33:46Z. The documented type is an ISO 8601 string, so a number is refused instead."""
    if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
        raise ValueError("a time is an ISO 8601 string such as 2026-01-31T12:00:00Z, not a number")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _to_utc(value: datetime) -> datetime:
    try:
        return as_utc(value)
    except OverflowError:
        raise ValueError("the time has no UTC equivalent between years 1 and 9999") from None


UtcDatetime = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_to_utc)]
"""An ISO 8601 time, converted to UTC (naive: read as UTC); refused (422) when it is a number or falls outside
years 1-9999 in UTC."""
Cutoff = Annotated[AwareDatetime, BeforeValidator(_not_a_number), AfterValidator(_to_utc)]
"""A time before which data is deleted: with its offset (a naive one is refused: a deletion must not depend on
which zone the caller meant), converted to UTC."""

NO_NUL_PATTERN: Final = r"^[^\x00]*$"
"""A text without a NUL character, which a PostgreSQL text column cannot hold (a query parameter with one fails)."""

SUBJECT_HASH_PATTERN = r"^[0-9a-f]{32}$"  # mlsec.ml.pii.subjects.HASH_PATTERN (a unit test keeps them equal)
MAX_SUBJECT_HASHES = 10_000  # per request to a store's /privacy/subjects
SubjectHash = Annotated[
    str, Field(pattern=SUBJECT_HASH_PATTERN, description="A subject's keyed hash (mlsec.ml.pii.subjects.subject_hash).")
]
