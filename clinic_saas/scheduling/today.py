"""Each role's home page, computed: the desk's day at a glance, a therapist's day, and the
clinic's day and week in numbers. Every function runs a fixed number of statements whatever the
number of appointments.

What the desk gets is what the desk may see: an intake's state and that a flag exists, never the
flags themselves (nothing here decrypts clinical content).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from ..clinic_time import day_range, days_range
from ..clinical import status
from ..clinical.status import IntakeState, IntakeSummary
from ..extensions import db
from ..models import Appointment, AppointmentStatus, Client, Clinic, Therapist
from .intervals import Interval, merge, subtract
from .roster import time_off_between, working_blocks

NEXT_SHOWN = 8
DUE_WITHIN = timedelta(minutes=30)  # "due to check in": starting within this, or started
LIVE = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)
SHOWS = (*LIVE, AppointmentStatus.NO_SHOW)


@dataclass(frozen=True)
class Visit:
    """One of today's appointments with where its client's intake stands (no clinical content)."""

    appointment: Appointment
    intake: IntakeSummary

    @property
    def intake_needed(self) -> bool:
        return self.intake.state is not IntakeState.CURRENT

    @property
    def flagged(self) -> bool:
        return self.intake.has_flags


@dataclass(frozen=True)
class DeskDay:
    """Reception's today: the next appointments, who is due to check in, the intakes to ask
    for, and the clients whose flags the therapist must be told exist."""

    visits: list[Visit]
    next_up: list[Visit]
    due: list[Visit]
    intakes_needed: list[Visit]
    flagged: list[Visit]


def _todays_visits(clinic: Clinic, on: date, therapist: Therapist | None = None) -> list[Visit]:
    window = day_range(on, clinic.tz)
    query = (
        select(Appointment)
        .options(
            joinedload(Appointment.client),
            joinedload(Appointment.service),
            joinedload(Appointment.therapist),
            joinedload(Appointment.location),
        )
        .where(
            Appointment.starts_at >= window.start,
            Appointment.starts_at < window.end,
            Appointment.status != AppointmentStatus.CANCELLED,
        )
        .order_by(Appointment.starts_at)
    )
    if therapist is not None:
        query = query.where(Appointment.therapist_id == therapist.id)
    appointments = db.session.scalars(query).all()
    summaries = status.summaries([a.client_id for a in appointments], clinic=clinic)
    return [Visit(a, summaries[a.client_id]) for a in appointments]


def desk_day(clinic: Clinic, on: date, now: datetime) -> DeskDay:
    """Two statements: today's appointments with their people, and the intakes' states."""
    visits = _todays_visits(clinic, on)
    booked = [v for v in visits if v.appointment.status == AppointmentStatus.BOOKED]
    ahead = [v for v in booked if v.appointment.starts_at >= now]
    coming = [v for v in visits if v.appointment.status in LIVE[:2]]  # not yet done
    return DeskDay(
        visits=visits,
        next_up=ahead[:NEXT_SHOWN],
        due=[v for v in booked if v.appointment.starts_at <= now + DUE_WITHIN],
        intakes_needed=[v for v in coming if v.intake_needed],
        flagged=[v for v in coming if v.flagged],
    )


def therapist_day(clinic: Clinic, therapist: Therapist, on: date) -> list[Visit]:
    """A therapist's own appointments today with their clients' intake states: two statements."""
    return _todays_visits(clinic, on, therapist)


@dataclass(frozen=True)
class Numbers:
    """A stretch of days in numbers."""

    appointments: int = 0
    booked_minutes: int = 0
    rostered_minutes: int = 0
    new_clients: int = 0
    no_shows: int = 0

    @property
    def booked_share(self) -> int | None:
        """Booked hours as a whole percentage of rostered hours (None with nobody rostered)."""
        if not self.rostered_minutes:
            return None
        return round(100 * self.booked_minutes / self.rostered_minutes)


@dataclass(frozen=True)
class ClinicNumbers:
    today: Numbers
    week: Numbers
    week_first: date
    week_last: date


def _minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


def clinic_numbers(clinic: Clinic, on: date) -> ClinicNumbers:
    """Today and this week (Monday to Sunday) in numbers, in six statements."""
    tz = clinic.tz
    first = on - timedelta(days=on.weekday())
    last = first + timedelta(days=6)
    week, day = days_range(first, last, tz), day_range(on, tz)
    rows = db.session.execute(
        select(Appointment.starts_at, Appointment.ends_at, Appointment.status).where(
            Appointment.starts_at >= week.start,
            Appointment.starts_at < week.end,
            Appointment.status.in_(SHOWS),
        )
    ).all()
    today_new = func.sum(case((Client.created_at >= day.start, 1), else_=0))
    new_week, new_today = db.session.execute(
        select(func.count(Client.id), today_new).where(
            Client.created_at >= week.start, Client.created_at < week.end
        )
    ).one()
    therapist_ids = list(db.session.scalars(select(Therapist.id).where(Therapist.active)))
    blocks = working_blocks(therapist_ids, first, last, tz)
    away = time_off_between(therapist_ids, week.start, week.end)
    # Rostered hours are the hours a therapist can be booked: a shift less their time off.
    working = [
        part
        for tid, found in blocks.items()
        for b in found
        for part in subtract(b.interval, merge(Interval(t.starts_at, t.ends_at) for t in away[tid]))
    ]

    def numbers(start: datetime, end: datetime, new_clients: int | None) -> Numbers:
        mine = [r for r in rows if start <= r.starts_at < end]
        live = [r for r in mine if r.status in LIVE]
        rostered = sum(
            _minutes(max(part.start, start), min(part.end, end))
            for part in working
            if part.start < end and part.end > start
        )
        return Numbers(
            appointments=len(live),
            booked_minutes=sum(_minutes(r.starts_at, r.ends_at) for r in live),
            rostered_minutes=rostered,
            new_clients=new_clients or 0,
            no_shows=sum(1 for r in mine if r.status == AppointmentStatus.NO_SHOW),
        )

    return ClinicNumbers(
        today=numbers(day.start, day.end, new_today),
        week=numbers(week.start, week.end, new_week),
        week_first=first,
        week_last=last,
    )


def own_therapist(membership_id: uuid.UUID) -> Therapist | None:
    return db.session.scalar(select(Therapist).where(Therapist.membership_id == membership_id))
