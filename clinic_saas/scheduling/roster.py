"""A therapist's working hours on given days, from weekly shifts, dated overrides and time off."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..clinic_time import local_instant
from ..extensions import db
from ..models import DayOverride, Shift, TimeOff
from .intervals import Interval, days


@dataclass(frozen=True)
class WorkBlock:
    """Hours worked at one site on one local day, as instants."""

    therapist_id: uuid.UUID
    location_id: uuid.UUID
    day: date
    start_time: time
    end_time: time
    interval: Interval
    overridden: bool = False


def blocks_for(
    therapist_id: uuid.UUID,
    location_id: uuid.UUID,
    day: date,
    start: time,
    end: time,
    tz: ZoneInfo,
    overridden: bool = False,
) -> WorkBlock:
    return WorkBlock(
        therapist_id,
        location_id,
        day,
        start,
        end,
        Interval(local_instant(day, start, tz), local_instant(day, end, tz)),
        overridden,
    )


def working_blocks(
    therapist_ids: list[uuid.UUID], first: date, last: date, tz: ZoneInfo
) -> dict[uuid.UUID, list[WorkBlock]]:
    """Working hours per therapist for every local day from first to last: two queries in all."""
    result: dict[uuid.UUID, list[WorkBlock]] = {tid: [] for tid in therapist_ids}
    if not therapist_ids:
        return result
    shifts = db.session.scalars(
        select(Shift).where(
            Shift.therapist_id.in_(therapist_ids),
            Shift.valid_from <= last,
            (Shift.valid_until.is_(None)) | (Shift.valid_until >= first),
        )
    ).all()
    overrides = db.session.scalars(
        select(DayOverride).where(
            DayOverride.therapist_id.in_(therapist_ids),
            DayOverride.on_date.between(first, last),
        )
    ).all()
    overridden: dict[tuple[uuid.UUID, date], list[DayOverride]] = defaultdict(list)
    for row in overrides:
        overridden[(row.therapist_id, row.on_date)].append(row)
    by_therapist: dict[uuid.UUID, list[Shift]] = defaultdict(list)
    for shift in shifts:
        by_therapist[shift.therapist_id].append(shift)

    for tid in therapist_ids:
        for day in days(first, last):
            if (tid, day) in overridden:
                for row in overridden[(tid, day)]:
                    if not row.is_day_off:
                        result[tid].append(
                            blocks_for(
                                tid, row.location_id, day, row.start_time, row.end_time, tz, True
                            )
                        )
                continue
            for shift in by_therapist[tid]:
                if shift.applies_on(day):
                    result[tid].append(
                        blocks_for(
                            tid, shift.location_id, day, shift.start_time, shift.end_time, tz
                        )
                    )
        result[tid].sort(key=lambda block: block.interval)
    return result


def time_off_between(
    therapist_ids: list[uuid.UUID], start: datetime, end: datetime
) -> dict[uuid.UUID, list[TimeOff]]:
    """Time off overlapping [start, end) per therapist, in one query."""
    result: dict[uuid.UUID, list[TimeOff]] = {tid: [] for tid in therapist_ids}
    if not therapist_ids:
        return result
    for row in db.session.scalars(
        select(TimeOff)
        .where(
            TimeOff.therapist_id.in_(therapist_ids),
            TimeOff.starts_at < end,
            TimeOff.ends_at > start,
        )
        .order_by(TimeOff.starts_at)
    ):
        result[row.therapist_id].append(row)
    return result
