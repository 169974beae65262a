"""The shared bounds of request values: SQL-sized integers and times that have a UTC equivalent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from mlsec.core.limits import MAX_INT32, MAX_INT64, BigRowId, Count32, Offset, RowId, UtcDatetime, as_utc


@pytest.mark.parametrize(
    ("kind", "accepted", "refused"),
    [
        (Offset, [0, 1, MAX_INT64], [-1, MAX_INT64 + 1, 2**64]),
        (BigRowId, [0, MAX_INT64], [-1, 2**63]),
        (RowId, [1, MAX_INT32], [0, -1, MAX_INT32 + 1, 2**63]),
        (Count32, [0, MAX_INT32], [-1, MAX_INT32 + 1]),
    ],
    ids=["Offset", "BigRowId", "RowId", "Count32"],
)
def test_integers_fit_their_sql_column(kind: Any, accepted: list[int], refused: list[int]) -> None:
    adapter = TypeAdapter(kind)
    for value in accepted:
        assert adapter.validate_python(value) == value
        assert adapter.validate_python(str(value)) == value  # as a query string gives it
    for value in refused:
        with pytest.raises(ValidationError):
            adapter.validate_python(str(value))


def test_integer_bounds_are_in_the_json_schema() -> None:
    assert TypeAdapter(Offset).json_schema() == {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_INT64,
        "description": "Rows to skip.",
    }
    assert TypeAdapter(RowId).json_schema() == {"type": "integer", "minimum": 1, "maximum": MAX_INT32}


def test_times_are_utc_and_naive_times_are_read_as_utc() -> None:
    adapter = TypeAdapter(UtcDatetime)
    assert adapter.validate_python("2026-05-01T12:00:00") == datetime(2026, 5, 1, 12, tzinfo=UTC)
    converted = adapter.validate_python("2026-05-01T12:00:00+02:00")
    assert converted == datetime(2026, 5, 1, 10, tzinfo=UTC) and converted.tzinfo is UTC
    assert adapter.validate_python("0001-01-01T00:00:00Z") == datetime.min.replace(tzinfo=UTC)
    assert adapter.validate_python("9999-12-31T23:59:59+00:00") == datetime.max.replace(microsecond=0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-23:59",
        "9999-12-31T23:00:00-01:00",
        datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, 23, tzinfo=timezone(-timedelta(hours=2))),
    ],
)
def test_times_without_a_utc_equivalent_are_refused_not_overflowed(value: object) -> None:
    with pytest.raises(ValidationError, match="no UTC equivalent"):
        TypeAdapter(UtcDatetime).validate_python(value)


@pytest.mark.parametrize("value", [0, 1_700_000_000, 1.5, True, "0", "2026", "1700000000.5"])
def test_a_number_is_not_a_time(value: object) -> None:
    """Pydantic alone reads numbers as seconds since 1970 (`since=2026`: 33 minutes after it); the OpenAPI type
    is an ISO 8601 string."""
    with pytest.raises(ValidationError, match="ISO 8601"):
        TypeAdapter(UtcDatetime).validate_python(value)


def test_as_utc() -> None:
    assert as_utc(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert as_utc(datetime(2026, 1, 1, 3, tzinfo=timezone(timedelta(hours=3)))) == datetime(2026, 1, 1, tzinfo=UTC)
