"""The time window a question is about, and the rollup resolution that answers it.

`?period=24h` (ending now) or `?start=...&end=...`; the resolution is the finest that keeps a series under
MAX_BUCKETS points unless one is asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from mlsec.services.business_metrics.errors import InvalidPeriodError, InvalidResolutionError

Resolution = Literal["minute", "hour", "day"]
RESOLUTIONS: tuple[Resolution, ...] = get_args(Resolution)
RESOLUTION_MINUTES: dict[Resolution, int] = {"minute": 1, "hour": 60, "day": 1440}
DEFAULT_PERIOD = "24h"
MAX_BUCKETS = 5_000
MIN_SPAN = timedelta(minutes=1)
MAX_SPAN = timedelta(days=400)
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_PERIOD = re.compile(r"^([1-9][0-9]{0,6})([mhd])$")
MINUTE_UP_TO = timedelta(hours=48)
HOUR_UP_TO = timedelta(days=90)


@dataclass(frozen=True)
class Period:
    """[start, end): tz-aware UTC."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # the platform reads a time without an offset as UTC
    return value.astimezone(UTC)


def _duration(period: str) -> timedelta:
    match = _PERIOD.match(period.strip())
    if match is None:
        raise InvalidPeriodError(
            f"period {period[:40]!r} is not <number><m|h|d> (for example 15m, 24h, 7d)", period=period[:40]
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _check_span(span: timedelta, given: str) -> None:
    if span < MIN_SPAN or span > MAX_SPAN:
        raise InvalidPeriodError(f"a period lasts from 1 minute to 400 days, not {given}", period=given)


def parse_period(period: str | None, start: datetime | None, end: datetime | None, *, now: datetime) -> Period:
    """The period asked for: `period` ending now (default 24h), or `start` to `end` (`end` defaults to now)."""
    now = _utc(now, "now")
    if start is not None or end is not None:
        if period is not None:
            raise InvalidPeriodError("give either period or start and end, not both", period=period[:40])
        if start is None:
            raise InvalidPeriodError("end without start: give start too (end defaults to now)")
        first, last = _utc(start, "start"), _utc(end, "end") if end is not None else now
        if last <= first:
            raise InvalidPeriodError(
                f"start ({first.isoformat()}) must be before end ({last.isoformat()})",
                start=first.isoformat(),
                end=last.isoformat(),
            )
        _check_span(last - first, f"{(last - first).total_seconds():.0f} s")
        return Period(first, last)
    given = DEFAULT_PERIOD if period is None else period
    span = _duration(given)
    _check_span(span, given)
    return Period(now - span, now)


def resolution_for(period: Period, wanted: Resolution | None = None) -> Resolution:
    """The resolution asked for (422 when it would give more than MAX_BUCKETS points), else the finest that fits."""
    span = period.end - period.start
    if wanted is not None:
        if wanted not in RESOLUTION_MINUTES:
            raise InvalidResolutionError(f"resolution {str(wanted)[:20]!r} is not one of {', '.join(RESOLUTIONS)}")
        buckets = span / timedelta(minutes=RESOLUTION_MINUTES[wanted])
        if buckets > MAX_BUCKETS:
            raise InvalidResolutionError(
                f"{wanted} resolution over this period gives {buckets:.0f} points (at most {MAX_BUCKETS}); "
                "ask for a coarser resolution or a shorter period"
            )
        return wanted
    if span <= MINUTE_UP_TO:
        return "minute"
    if span <= HOUR_UP_TO:
        return "hour"
    return "day"


def bucket_of(at: datetime, resolution: Resolution = "minute") -> int:
    """The bucket (minutes since the epoch of its start) holding `at` at the resolution."""
    minutes = int(_utc(at, "at").timestamp() // 60)
    return minutes - minutes % RESOLUTION_MINUTES[resolution]


def bucket_start(bucket: int) -> datetime:
    """The start of a bucket as a tz-aware UTC time."""
    return datetime.fromtimestamp(bucket * 60, tz=UTC)
