"""A clinic's own calendar: its today, its local days as UTC instants, and calendar months.

Instants are stored in UTC; people plan in the clinic's timezone. Every conversion between the two
lives here, so that daylight-saving changes are handled once. Functions take the clinic's `tz` (or
anything with a `tz`, such as a Clinic) so that this module stands below the models.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import NamedTuple, Protocol

# The calendar the product covers: a date outside it is a typing slip, refused rather than searched.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


class HasTimezone(Protocol):
    """A clinic, or anything else that knows its timezone."""

    @property
    def tz(self) -> tzinfo: ...


class Span(NamedTuple):
    """UTC instants [start, end) of local calendar time."""

    start: datetime
    end: datetime


def now() -> datetime:
    """The current instant, in UTC, as every stored instant is."""
    return datetime.now(UTC)


def today_in(clinic: HasTimezone) -> date:
    """The date it is now where the clinic is, not where the server is."""
    return now().astimezone(clinic.tz).date()


def local(instant: datetime, tz: tzinfo) -> datetime:
    """An instant on the clinic's wall clock."""
    return instant.astimezone(tz)


def local_day(instant: datetime, tz: tzinfo) -> date:
    """The clinic's calendar day an instant falls on (late evening UTC may be tomorrow locally)."""
    return instant.astimezone(tz).date()


def local_instant(day: date, wall_clock: time, tz: tzinfo) -> datetime:
    """The instant (in UTC) a wall-clock time of the clinic's zone happens on `day`.

    In UTC because arithmetic on a datetime carrying a ZoneInfo is wall-clock arithmetic, which is
    wrong across a daylight-saving change. In the hour that a spring-forward change skips, the time
    is read with the offset in force before the change (01:30 that night in London is 02:30 BST);
    an ambiguous autumn time is its first occurrence.
    """
    return datetime.combine(day, wall_clock, tzinfo=tz).astimezone(UTC)


def day_range(day: date, tz: tzinfo) -> Span:
    """The instants of one local calendar day: 23, 24 or 25 hours long."""
    return Span(
        local_instant(day, time(0), tz), local_instant(day + timedelta(days=1), time(0), tz)
    )


def days_range(first: date, last: date, tz: tzinfo) -> Span:
    """The instants from the start of local day `first` to the end of local day `last`."""
    return Span(day_range(first, tz).start, day_range(last, tz).end)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the last day of a shorter month (31 Jan -> 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
