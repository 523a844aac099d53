"""Changing the roster: weekly shifts, one-day changes and time off, checked before they are kept.

Each function validates, flushes and never commits; what it refuses it raises as RosterError, whose
message is written for the person who asked. Bookings are never moved by a roster change: the
caller asks appointments_outside_working_time() which ones a change has left stranded, and warns.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import display
from ..clinic_time import days_range
from ..extensions import db
from ..models import (
    Appointment,
    AppointmentStatus,
    DayOverride,
    Location,
    Shift,
    Therapist,
    TimeOff,
    TimeOffKind,
)
from ..refusals import Refusal
from .intervals import Interval
from .roster import WorkBlock, time_off_between, working_blocks

WEEKDAY_NAMES = (
    "Mondays",
    "Tuesdays",
    "Wednesdays",
    "Thursdays",
    "Fridays",
    "Saturdays",
    "Sundays",
)
DASH = "\u2013"  # the en dash of "09:00-13:00" as people write it
OPEN_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)


class RosterError(Refusal):
    """A roster change that cannot be made as asked; str() is for people."""


@dataclass(frozen=True)
class HoursBlock:
    """Hours at one site on a day that is changed from the weekly roster."""

    location: Location
    start: time
    end: time


def hours(start: time, end: time) -> str:
    return f"{display.time(start)}{DASH}{display.time(end)}"


def _check_hours(start: time, end: time, what: str) -> None:
    if end <= start:
        raise RosterError(f"{what} must end after it starts ({hours(start, end)}).")


def _check_open_site(location: Location) -> None:
    if not location.active:
        raise RosterError(f"{location.name} is closed: reopen the site before rostering it.")


def _check_active(therapist: Therapist) -> None:
    if not therapist.active:
        raise RosterError(
            f"{therapist.display_name} is not active: reactivate their profile first."
        )


def _validity_overlaps(a_from: date, a_until: date | None, b_from: date, b_until: date | None):
    return (a_until is None or b_from <= a_until) and (b_until is None or a_from <= b_until)


def _describe_shift(shift: Shift, location_name: str) -> str:
    validity = f"from {display.weekday_day(shift.valid_from)}"
    if shift.valid_until is not None:
        validity += f" until {display.weekday_day(shift.valid_until)}"
    return (
        f"{WEEKDAY_NAMES[shift.weekday]} {hours(shift.start_time, shift.end_time)} "
        f"at {location_name} {validity}"
    )


def add_weekly_shifts(
    therapist: Therapist,
    location: Location,
    weekdays: Iterable[int],
    start: time,
    end: time,
    valid_from: date,
    valid_until: date | None = None,
) -> list[Shift]:
    """Add the same hours on one or more weekdays, refusing any overlap with existing shifts."""
    weekdays = sorted(set(weekdays))
    if not weekdays:
        raise RosterError("Choose at least one day of the week.")
    if any(day not in range(7) for day in weekdays):
        raise RosterError("Days of the week run from Monday to Sunday.")
    _check_hours(start, end, "A shift")
    if valid_until is not None and valid_until < valid_from:
        raise RosterError("The shift's last day comes before its first day.")
    _check_active(therapist)
    _check_open_site(location)
    existing = db.session.execute(
        select(Shift, Location.name)
        .join(Location, Location.id == Shift.location_id)
        .where(
            Shift.therapist_id == therapist.id,
            Shift.weekday.in_(weekdays),
            Shift.start_time < end,
            Shift.end_time > start,
        )
        .order_by(Shift.weekday, Shift.start_time)
    ).all()
    for other, location_name in existing:
        if _validity_overlaps(valid_from, valid_until, other.valid_from, other.valid_until):
            raise RosterError(
                f"{therapist.display_name} already works "
                f"{_describe_shift(other, location_name)}: the new shift would overlap it."
            )
    shifts = [
        Shift(
            therapist_id=therapist.id,
            location_id=location.id,
            weekday=day,
            start_time=start,
            end_time=end,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        for day in weekdays
    ]
    db.session.add_all(shifts)
    db.session.flush()
    return shifts


def end_weekly_shift(shift: Shift, stop_from: date) -> Shift | None:
    """Stop a weekly shift from a date on; a shift that would never have started is deleted."""
    if shift.valid_until is not None and shift.valid_until < stop_from:
        raise RosterError(f"This shift already ends on {display.weekday_day(shift.valid_until)}.")
    if stop_from <= shift.valid_from:  # compared before subtracting: date.min has no day before
        db.session.delete(shift)
        db.session.flush()
        return None
    shift.valid_until = stop_from - timedelta(days=1)
    db.session.flush()
    return shift


def override_rows(therapist_id: uuid.UUID, day: date) -> list[DayOverride]:
    return list(
        db.session.scalars(
            select(DayOverride).where(
                DayOverride.therapist_id == therapist_id, DayOverride.on_date == day
            )
        )
    )


def set_day_override(
    therapist: Therapist, day: date, blocks: Sequence[HoursBlock], note: str | None = None
) -> list[DayOverride]:
    """Replace one day's weekly hours with these blocks; no blocks means not working that day."""
    ordered = sorted(blocks, key=lambda b: (b.start, b.end))
    for block in ordered:
        _check_hours(block.start, block.end, "Each block of hours")
        _check_open_site(block.location)
    for before, after in pairwise(ordered):
        if after.start < before.end:
            raise RosterError(
                f"The hours {hours(before.start, before.end)} and "
                f"{hours(after.start, after.end)} overlap: one person works one block at a time."
            )
    _check_active(therapist)
    for row in override_rows(therapist.id, day):
        db.session.delete(row)
    db.session.flush()
    note = (note or "").strip() or None
    if ordered:
        rows = [
            DayOverride(
                therapist_id=therapist.id,
                on_date=day,
                location_id=block.location.id,
                start_time=block.start,
                end_time=block.end,
                note=note,
            )
            for block in ordered
        ]
    else:
        rows = [DayOverride(therapist_id=therapist.id, on_date=day, note=note)]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def clear_day_override(override: DayOverride) -> date:
    """Give a therapist's day back to the weekly roster: every change recorded for that day goes."""
    day = override.on_date
    for row in override_rows(override.therapist_id, day):
        db.session.delete(row)
    db.session.flush()
    return day


def whole_days(first: date, last: date, tz: ZoneInfo) -> Interval:
    """From the start of the first local day to the end of the last one."""
    if last < first:
        raise RosterError("The last day off comes before the first.")
    return Interval(*days_range(first, last, tz))


def add_time_off(
    therapist: Therapist,
    kind: TimeOffKind,
    starts_at: datetime,
    ends_at: datetime,
    note: str | None = None,
) -> TimeOff:
    """Record time away; bookings in the way are kept (the caller warns about them)."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise RosterError("Time off needs a timezone.")
    if ends_at <= starts_at:
        raise RosterError("The time off must end after it starts.")
    row = TimeOff(
        therapist_id=therapist.id,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        note=(note or "").strip() or None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def remove_time_off(row: TimeOff) -> None:
    db.session.delete(row)
    db.session.flush()


def is_outside(
    span: Interval, location_id: uuid.UUID, blocks: Iterable[WorkBlock], away: Iterable[Interval]
) -> bool:
    """True when a booking is not inside one block at its own site, or meets time off."""
    inside = any(b.location_id == location_id and b.interval.contains(span) for b in blocks)
    return not inside or any(span.overlaps(a) for a in away)


def appointments_outside_working_time(
    therapist_id: uuid.UUID, start: datetime, end: datetime, tz: ZoneInfo
) -> list[Appointment]:
    """Open appointments of one therapist between two instants that now fall outside their hours."""
    appointments = db.session.scalars(
        select(Appointment)
        .options(joinedload(Appointment.client), joinedload(Appointment.service))
        .where(
            Appointment.therapist_id == therapist_id,
            Appointment.status.in_(OPEN_STATUSES),
            Appointment.starts_at < end,
            Appointment.ends_at > start,
        )
        .order_by(Appointment.starts_at)
    ).all()
    if not appointments:
        return []
    first = min(a.starts_at for a in appointments).astimezone(tz).date()
    last = max(a.ends_at for a in appointments).astimezone(tz).date()
    blocks = working_blocks([therapist_id], first, last, tz)[therapist_id]
    away = [
        Interval(t.starts_at, t.ends_at)
        for t in time_off_between(
            [therapist_id], appointments[0].starts_at, max(a.ends_at for a in appointments)
        )[therapist_id]
    ]
    return [
        a
        for a in appointments
        if is_outside(Interval(a.starts_at, a.ends_at), a.location_id, blocks, away)
    ]


def describe_appointment(appointment: Appointment, tz: ZoneInfo) -> str:
    """'Tue 3 Mar 2026 10:00 Ada Runner (Sports massage 60)': for warnings."""
    starts, client = appointment.starts_at, appointment.client.full_name
    return (
        f"{display.weekday_day(starts, tz)} {display.time(starts, tz)} {client} "
        f"({appointment.service.name})"
    )


def away_text(time_off: TimeOff, day: Interval, tz: ZoneInfo) -> str:
    """When time off touches one local day: 'all day', 'from 13:00', 'until 11:00' or a range."""
    start, end = max(time_off.starts_at, day.start), min(time_off.ends_at, day.end)
    if start == day.start and end == day.end:
        return "all day"
    if start == day.start:
        return f"until {display.time(end, tz)}"
    if end == day.end:
        return f"from {display.time(start, tz)}"
    return f"{display.time(start, tz)}{DASH}{display.time(end, tz)}"
