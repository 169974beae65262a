"""Periods and resolutions: what is accepted, what is refused (422 with a message that says why)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mlsec.core.errors import InvalidInputError
from mlsec.services.business_metrics.service.period import (
    Period,
    bucket_of,
    bucket_start,
    parse_period,
    resolution_for,
)

NOW = datetime(2026, 12, 6, 12, 30, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("24h", timedelta(hours=24)),
        ("30d", timedelta(days=30)),
    ],
)
def test_a_period_ends_now(text: str, span: timedelta) -> None:
    period = parse_period(text, None, None, now=NOW)
    assert period == Period(NOW - span, NOW)
    assert period.seconds == span.total_seconds()


def test_the_default_is_the_last_24_hours() -> None:
    assert parse_period(None, None, None, now=NOW) == Period(NOW - timedelta(hours=24), NOW)


def test_start_and_end_naive_times_are_utc() -> None:
    period = parse_period(None, datetime(2026, 12, 1), datetime(2026, 12, 2, 1, tzinfo=UTC), now=NOW)
    assert period.start == datetime(2026, 12, 1, tzinfo=UTC) and period.seconds == 25 * 3600
    assert parse_period(None, datetime(2026, 12, 6, tzinfo=UTC), None, now=NOW).end == NOW


@pytest.mark.parametrize(
    ("period", "start", "end", "message"),
    [
        ("1w", None, None, "is not <number><m|h|d>"),
        ("h", None, None, "is not <number><m|h|d>"),
        ("-5m", None, None, "is not <number><m|h|d>"),
        ("0m", None, None, "is not <number><m|h|d>"),
        ("401d", None, None, "from 1 minute to 400 days"),
        ("24h", NOW - timedelta(hours=1), None, "either period or start and end"),
        (None, None, NOW, "end without start"),
        (None, NOW, NOW - timedelta(hours=1), "must be before end"),
        (None, NOW - timedelta(seconds=30), NOW, "from 1 minute to 400 days"),
    ],
)
def test_bad_periods_are_refused(
    period: str | None, start: datetime | None, end: datetime | None, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        parse_period(period, start, end, now=NOW)
    assert caught.value.status_code == 422


def test_the_resolution_fits_the_period() -> None:
    assert resolution_for(parse_period("48h", None, None, now=NOW)) == "minute"
    assert resolution_for(parse_period("3d", None, None, now=NOW)) == "hour"
    assert resolution_for(parse_period("90d", None, None, now=NOW)) == "hour"
    assert resolution_for(parse_period("91d", None, None, now=NOW)) == "day"
    assert resolution_for(parse_period("7d", None, None, now=NOW), "day") == "day"


def test_a_resolution_too_fine_for_the_period_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="at most 5000") as caught:
        resolution_for(parse_period("7d", None, None, now=NOW), "minute")
    assert caught.value.status_code == 422
    with pytest.raises(InvalidInputError, match="is not one of"):
        resolution_for(parse_period("1h", None, None, now=NOW), "week")  # type: ignore[arg-type]


def test_buckets_start_on_whole_minutes_hours_and_days() -> None:
    assert bucket_start(bucket_of(NOW)) == datetime(2026, 12, 6, 12, 30, tzinfo=UTC)
    assert bucket_start(bucket_of(NOW, "hour")) == datetime(2026, 12, 6, 12, tzinfo=UTC)
    assert bucket_start(bucket_of(NOW, "day")) == datetime(2026, 12, 6, tzinfo=UTC)
