"""The reception day sheet: one column per therapist, one row per step of the clinic's clock.

Pure layout from records already loaded (no queries here), so the page costs the same few
queries whether the day holds 5 appointments or 500.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ...clinic_time import day_range, local_instant
from ...models import Appointment, AppointmentStatus, Therapist, TimeOff
from ...scheduling.intervals import Interval
from ...scheduling.roster import WorkBlock
from ...scheduling.roster_admin import away_text

# The rows shown on a day when nobody works and nothing is booked.
QUIET_DAY = (time(8), time(20))

FREE, OFF, AWAY, BUFFER, ELSEWHERE, BOOKED = "free", "off", "away", "buffer", "elsewhere", "booked"


@dataclass
class Cell:
    """One table cell: an appointment spanning its session's rows, or one row of a state."""

    kind: str
    rowspan: int = 1
    appointment: Appointment | None = None
    also: list[Appointment] = field(default_factory=list)  # overlapping records, shown together
    note: str = ""


@dataclass
class Column:
    therapist: Therapist
    blocks: list[WorkBlock]
    away: list[TimeOff]
    cells: list[Cell | None]  # None where a cell above spans the row
    bookings: int = 0


@dataclass
class DaySheet:
    day: date
    rows: list[datetime]
    columns: list[Column]
    cancelled: list[Appointment]


def _minutes(instant: datetime, tz: ZoneInfo) -> int:
    local = instant.astimezone(tz)
    return local.hour * 60 + local.minute


def grid_floor(instant: datetime, day: date, step: int, tz: ZoneInfo) -> datetime:
    """The last grid line of `day` at or before the instant (the day's start at the earliest)."""
    if instant.astimezone(tz).date() < day:
        return day_range(day, tz).start
    minutes = _minutes(instant, tz)
    minutes -= minutes % step
    return local_instant(day, time(minutes // 60, minutes % 60), tz)


def grid_ceil(instant: datetime, day: date, step: int, tz: ZoneInfo) -> datetime:
    """The first grid line of `day` at or after the instant (the day's end at the latest)."""
    local = instant.astimezone(tz)
    if local.date() > day:
        return day_range(day, tz).end
    minutes = _minutes(instant, tz) + (1 if local.second or local.microsecond else 0)
    minutes = -(-minutes // step) * step
    if minutes >= 24 * 60:
        return day_range(day, tz).end
    return local_instant(day, time(minutes // 60, minutes % 60), tz)


def _rows(day: date, tz: ZoneInfo, step: int, spans: list[Interval]) -> list[datetime]:
    if spans:
        first = min(s.start for s in spans)
        last = max(s.end for s in spans)
    else:
        first, last = (local_instant(day, t, tz) for t in QUIET_DAY)
    first, last = grid_floor(first, day, step, tz), grid_ceil(last, day, step, tz)
    rows, cursor = [first], first + timedelta(minutes=step)
    while cursor < last:
        rows.append(cursor)
        cursor += timedelta(minutes=step)
    return rows


def _index(rows: list[datetime], step: timedelta, instant: datetime, *, up: bool) -> int:
    """The row an instant falls in (up=False), or the first row starting at or after it."""
    offset = (instant - rows[0]) / step
    whole = int(offset // 1)
    if up and offset > whole:
        whole += 1
    return max(0, min(len(rows), whole))


def _row_state(
    row: Interval,
    blocks: list[WorkBlock],
    away: list[TimeOff],
    location_id: uuid.UUID | None,
    site_names: dict[uuid.UUID, str],
) -> Cell:
    for item in away:
        if row.overlaps(Interval(item.starts_at, item.ends_at)):
            return Cell(AWAY, note=item.kind.label)
    for block in blocks:
        if block.interval.contains(row):
            if location_id is None or block.location_id == location_id:
                return Cell(FREE)
            return Cell(ELSEWHERE, note=f"At {site_names.get(block.location_id, 'another site')}")
    return Cell(OFF, note="Not working")


def _column(
    therapist: Therapist,
    rows: list[datetime],
    step: timedelta,
    blocks: list[WorkBlock],
    away: list[TimeOff],
    appointments: list[Appointment],
    location_id: uuid.UUID | None,
    site_names: dict[uuid.UUID, str],
) -> Column:
    cells: list[Cell | None] = [None] * len(rows)
    owner: list[Cell | None] = [None] * len(rows)  # the appointment cell covering each row
    buffered = [False] * len(rows)
    for appointment in appointments:
        first = min(_index(rows, step, appointment.starts_at, up=False), len(rows) - 1)
        if owner[first] is not None:
            owner[first].also.append(appointment)
            continue
        last = max(first + 1, _index(rows, step, appointment.ends_at, up=True))
        span = 1
        while first + span < last and owner[first + span] is None:
            span += 1
        cell = Cell(BOOKED, rowspan=span, appointment=appointment)
        cells[first] = cell
        for n in range(first, first + span):
            owner[n] = cell
        for n in range(first + span, _index(rows, step, appointment.blocked_until, up=True)):
            buffered[n] = True
    for n, start in enumerate(rows):
        if owner[n] is not None:
            continue
        if buffered[n]:
            cells[n] = Cell(BUFFER, note="Recovery buffer")
        else:
            row = Interval(start, start + step)
            cells[n] = _row_state(row, blocks, away, location_id, site_names)
    return Column(therapist, blocks, away, cells, bookings=len(appointments))


def build_day_sheet(
    day: date,
    tz: ZoneInfo,
    step_minutes: int,
    therapists: list[Therapist],
    blocks: dict[uuid.UUID, list[WorkBlock]],
    away: dict[uuid.UUID, list[TimeOff]],
    appointments: list[Appointment],
    *,
    location_id: uuid.UUID | None = None,
    site_names: dict[uuid.UUID, str] | None = None,
) -> DaySheet:
    """Lay out one local day: columns for who works or is booked, rows over the busy hours.

    `appointments` are the day's, already limited to the chosen site; cancelled ones are
    listed under the grid instead of in it.
    """
    site_names = site_names or {}
    live = [a for a in appointments if a.status != AppointmentStatus.CANCELLED]
    cancelled = [a for a in appointments if a.status == AppointmentStatus.CANCELLED]
    booked_for: dict[uuid.UUID, list[Appointment]] = {}
    people = {t.id: t for t in therapists}
    for appointment in sorted(live, key=lambda a: (a.starts_at, a.ends_at)):
        booked_for.setdefault(appointment.therapist_id, []).append(appointment)
        people.setdefault(appointment.therapist_id, appointment.therapist)

    def works_here(block: WorkBlock) -> bool:
        return location_id is None or block.location_id == location_id

    shown = sorted(
        (
            t
            for t in people.values()
            if t.id in booked_for or any(works_here(b) for b in blocks.get(t.id, []))
        ),
        key=lambda t: (t.display_name.lower(), str(t.id)),
    )
    spans = [b.interval for t in shown for b in blocks.get(t.id, []) if works_here(b)]
    spans += [Interval(a.starts_at, a.blocked_until) for a in live]
    rows = _rows(day, tz, step_minutes, spans)
    step = timedelta(minutes=step_minutes)
    columns = [
        _column(
            t,
            rows,
            step,
            blocks.get(t.id, []),
            away.get(t.id, []),
            booked_for.get(t.id, []),
            location_id,
            site_names,
        )
        for t in shown
    ]
    cancelled.sort(key=lambda a: a.starts_at)
    return DaySheet(day, rows, columns, cancelled)


@dataclass
class DayPlan:
    """One of a therapist's days: hours, time away and appointments, for their own schedule."""

    day: date
    blocks: list[WorkBlock]
    away: list[TimeOff]
    appointments: list[Appointment]
    cancelled: list[Appointment]
    away_texts: list[str] = field(default_factory=list)  # beside `away`: "all day", "from 13:00"

    @property
    def working(self) -> bool:
        return bool(self.blocks)


def plan_days(
    first: date,
    last: date,
    tz: ZoneInfo,
    blocks: list[WorkBlock],
    away: list[TimeOff],
    appointments: list[Appointment],
) -> list[DayPlan]:
    """Split one therapist's loaded records into local days from first to last."""
    plans = []
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        span = Interval(*day_range(day, tz))
        mine = [a for a in appointments if span.start <= a.starts_at < span.end]
        off = [t for t in away if span.overlaps(Interval(t.starts_at, t.ends_at))]
        plans.append(
            DayPlan(
                day,
                [b for b in blocks if b.day == day],
                off,
                [a for a in mine if a.status != AppointmentStatus.CANCELLED],
                [a for a in mine if a.status == AppointmentStatus.CANCELLED],
                [away_text(t, span, tz) for t in off],
            )
        )
    return plans
