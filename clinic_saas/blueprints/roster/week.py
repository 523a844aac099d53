"""The week grid of the roster: everything for one week loaded in a fixed number of queries."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ... import display
from ...clinic_time import day_range
from ...extensions import db
from ...models import Appointment, DayOverride, Location, Therapist
from ...scheduling.intervals import Interval
from ...scheduling.roster import WorkBlock, time_off_between, working_blocks
from ...scheduling.roster_admin import OPEN_STATUSES, away_text, is_outside


@dataclass(frozen=True)
class BlockEntry:
    """Hours at a site on one day, from the weekly roster or from a change to that day."""

    start: str
    end: str
    site: str
    location_id: uuid.UUID
    overridden: bool
    elsewhere: bool  # at another site than the one the page is filtered to


@dataclass(frozen=True)
class AwayEntry:
    """Time off clipped to one local day."""

    time_off_id: uuid.UUID
    kind: str
    when: str
    note: str | None


@dataclass
class DayCell:
    day: date
    blocks: list[BlockEntry] = field(default_factory=list)
    away: list[AwayEntry] = field(default_factory=list)
    override_id: uuid.UUID | None = None  # any row of that day's change, to undo it
    day_off: bool = False
    note: str | None = None
    bookings: int = 0
    outside_hours: int = 0


@dataclass
class RosterRow:
    therapist: Therapist
    cells: list[DayCell]


def _day_changes(ids: list[uuid.UUID], first: date, last: date):
    changes: dict[tuple[uuid.UUID, date], list[DayOverride]] = defaultdict(list)
    for row in db.session.scalars(
        select(DayOverride).where(
            DayOverride.therapist_id.in_(ids), DayOverride.on_date.between(first, last)
        )
    ):
        changes[(row.therapist_id, row.on_date)].append(row)
    return changes


def _open_bookings(ids: list[uuid.UUID], window: Interval):
    """Only the columns the grid needs: hundreds of bookings cost one light query."""
    return db.session.execute(
        select(
            Appointment.therapist_id,
            Appointment.location_id,
            Appointment.starts_at,
            Appointment.ends_at,
        ).where(
            Appointment.therapist_id.in_(ids),
            Appointment.status.in_(OPEN_STATUSES),
            Appointment.starts_at < window.end,
            Appointment.ends_at > window.start,
        )
    ).all()


def build_week(
    therapists: list[Therapist],
    sites: dict[uuid.UUID, Location],
    monday: date,
    tz: ZoneInfo,
    location_id: uuid.UUID | None = None,
) -> list[RosterRow]:
    """Rows of therapists by Monday..Sunday cells: hours, changes, time off and bookings."""
    sunday = monday + timedelta(days=6)
    week_days = [monday + timedelta(days=n) for n in range(7)]
    day_ranges = {day: Interval(*day_range(day, tz)) for day in week_days}
    window = Interval(day_ranges[monday].start, day_ranges[sunday].end)
    ids = [t.id for t in therapists]

    blocks = working_blocks(ids, monday, sunday, tz)
    away = time_off_between(ids, window.start, window.end)
    changes = _day_changes(ids, monday, sunday)
    bookings = _open_bookings(ids, window)

    by_cell: dict[tuple[uuid.UUID, date], list[WorkBlock]] = defaultdict(list)
    for tid, therapist_blocks in blocks.items():
        for block in therapist_blocks:
            by_cell[(tid, block.day)].append(block)
    booked: dict[tuple[uuid.UUID, date], list] = defaultdict(list)
    for booking in bookings:
        booked[(booking.therapist_id, booking.starts_at.astimezone(tz).date())].append(booking)

    rows = []
    for therapist in therapists:
        tid = therapist.id
        away_intervals = [Interval(t.starts_at, t.ends_at) for t in away[tid]]
        cells = []
        for day in week_days:
            cell = DayCell(day)
            for block in by_cell[(tid, day)]:
                site = sites.get(block.location_id)
                cell.blocks.append(
                    BlockEntry(
                        display.time(block.interval.start, tz),
                        display.time(block.interval.end, tz),
                        site.name if site else "",
                        block.location_id,
                        block.overridden,
                        location_id is not None and block.location_id != location_id,
                    )
                )
            change = changes.get((tid, day))
            if change:
                cell.override_id = change[0].id
                cell.day_off = all(row.is_day_off for row in change)
                cell.note = next((row.note for row in change if row.note), None)
            for time_off in away[tid]:
                if Interval(time_off.starts_at, time_off.ends_at).overlaps(day_ranges[day]):
                    cell.away.append(
                        AwayEntry(
                            time_off.id,
                            time_off.kind.label,
                            away_text(time_off, day_ranges[day], tz),
                            time_off.note,
                        )
                    )
            for booking in booked[(tid, day)]:
                cell.bookings += 1
                span = Interval(booking.starts_at, booking.ends_at)
                if is_outside(span, booking.location_id, blocks[tid], away_intervals):
                    cell.outside_hours += 1
            cells.append(cell)
        rows.append(RosterRow(therapist, cells))
    return [row for row in rows if _shown(row, location_id)]


def _shown(row: RosterRow, location_id: uuid.UUID | None) -> bool:
    """Inactive people only when something is on their week; a site filter keeps its own staff."""
    if location_id is not None:
        return any(not block.elsewhere for cell in row.cells for block in cell.blocks)
    if row.therapist.active:
        return True
    return any(cell.blocks or cell.away or cell.bookings for cell in row.cells)
