"""Free start times: shifts, minus time off, minus appointments, for a service's whole span.

A start time t is offered for a service of duration D with recovery buffer B when [t, t+D+B) lies
inside the therapist's working time at one site (shifts there that touch or overlap join up) and
overlaps no time off and no live appointment's [starts_at, blocked_until). Start times sit on the
clinic's local clock grid (every 15 minutes by default), so 09:00, 09:15... whatever the
daylight-saving offset of the day.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..clinic_time import days_range
from ..extensions import db
from ..models import Appointment, AppointmentStatus, Clinic, Service, ServiceTherapist, Therapist
from .intervals import Interval, merge, subtract
from .roster import WorkBlock, time_off_between, working_blocks

MAX_RANGE_DAYS = 62


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    end: datetime  # the end of the session itself; the buffer follows it
    therapist_id: uuid.UUID
    location_id: uuid.UUID


def _first_on_grid(instant: datetime, step: int, tz: ZoneInfo) -> datetime:
    """The first instant at or after `instant` whose local clock time is a multiple of step."""
    local = instant.astimezone(tz)
    minutes = local.hour * 60 + local.minute
    extra = timedelta(seconds=local.second, microseconds=local.microsecond)
    pad = (-minutes) % step
    if pad == 0 and extra:
        pad = step
    return instant + timedelta(minutes=pad) - extra


def compute_slots(
    blocks: Iterable[WorkBlock],
    busy: Iterable[Interval],
    *,
    duration: timedelta,
    buffer: timedelta,
    step_minutes: int,
    tz: ZoneInfo,
    not_before: datetime | None = None,
) -> list[Slot]:
    """The pure core of availability, for one therapist: no database, easy to test hard."""
    span = duration + buffer
    taken = merge(busy)
    # Blocks at one site that touch or overlap are one stretch of work.
    by_site: dict[uuid.UUID, list[Interval]] = {}
    therapist_of: dict[uuid.UUID, uuid.UUID] = {}
    for block in blocks:
        by_site.setdefault(block.location_id, []).append(block.interval)
        therapist_of[block.location_id] = block.therapist_id
    offered: dict[datetime, Slot] = {}
    for site, intervals in by_site.items():
        for stretch in merge(intervals):
            for free in subtract(stretch, taken):
                start = max(free.start, not_before) if not_before else free.start
                start = _first_on_grid(start, step_minutes, tz)
                while start + span <= free.end:
                    # One person, one place: a start offered at two sites is offered once.
                    offered.setdefault(
                        start, Slot(start, start + duration, therapist_of[site], site)
                    )
                    start += timedelta(minutes=step_minutes)
    return sorted(offered.values())


def therapists_offering(service: Service, therapist_ids: list[uuid.UUID] | None = None):
    query = (
        select(Therapist)
        .join(ServiceTherapist, ServiceTherapist.therapist_id == Therapist.id)
        .where(ServiceTherapist.service_id == service.id, Therapist.active.is_(True))
        .order_by(Therapist.display_name)
    )
    if therapist_ids:
        query = query.where(Therapist.id.in_(therapist_ids))
    return db.session.scalars(query).all()


def busy_appointments(therapist_ids: list[uuid.UUID], window: Interval, exclude=None):
    """Live appointments overlapping a window, per therapist (one query)."""
    query = select(Appointment).where(
        Appointment.therapist_id.in_(therapist_ids),
        Appointment.status != AppointmentStatus.CANCELLED,
        Appointment.starts_at < window.end,
        Appointment.blocked_until > window.start,
    )
    if exclude is not None:
        query = query.where(Appointment.id != exclude)
    result: dict[uuid.UUID, list[Appointment]] = {tid: [] for tid in therapist_ids}
    for appointment in db.session.scalars(query):
        result[appointment.therapist_id].append(appointment)
    return result


def free_slots(
    clinic: Clinic,
    service: Service,
    first: date,
    last: date,
    *,
    therapist_ids: list[uuid.UUID] | None = None,
    location_id: uuid.UUID | None = None,
    not_before: datetime | None = None,
    exclude_appointment: uuid.UUID | None = None,
) -> list[Slot]:
    """Every free start time for `service` between two local dates: five queries in all."""
    if last < first:
        raise ValueError("the last day comes before the first")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise ValueError(f"search at most {MAX_RANGE_DAYS} days at a time")
    tz = clinic.tz
    therapists = therapists_offering(service, therapist_ids)
    ids = [t.id for t in therapists]
    window = Interval(*days_range(first, last, tz))
    blocks = working_blocks(ids, first, last, tz)
    away = time_off_between(ids, window.start, window.end)
    booked = busy_appointments(ids, window, exclude=exclude_appointment)
    slots: list[Slot] = []
    for tid in ids:
        therapist_blocks = [
            b for b in blocks[tid] if location_id is None or b.location_id == location_id
        ]
        busy = [Interval(t.starts_at, t.ends_at) for t in away[tid]]
        busy += [Interval(a.starts_at, a.blocked_until) for a in booked[tid]]
        slots += compute_slots(
            therapist_blocks,
            busy,
            duration=timedelta(minutes=service.duration_minutes),
            buffer=timedelta(minutes=service.buffer_minutes),
            step_minutes=clinic.slot_interval_minutes,
            tz=tz,
            not_before=not_before,
        )
    return sorted(slots)
