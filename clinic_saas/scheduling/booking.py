"""Booking, rescheduling and the life of an appointment.

Never two overlapping live appointments for one therapist, nor in one room. Every booking first
takes a lock on the therapist's row, then on the room's (an UPDATE of schedule_version: a row lock
on PostgreSQL, the database write lock on SQLite; always therapist before room, so that two
bookings never wait for each other), then checks for a clash, then inserts; so two requests racing
for one slot are serialised and the second sees the first. On PostgreSQL exclusion constraints
back this up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import display
from ..extensions import db
from ..menu.pricing import price_for
from ..models import (
    Appointment,
    AppointmentStatus,
    Client,
    Clinic,
    Location,
    Membership,
    Role,
    Room,
    Service,
    ServiceTherapist,
    Therapist,
)
from ..models.base import utcnow
from ..refusals import Conflict, Refusal
from .intervals import Interval
from .roster import time_off_between, working_blocks


class BookingError(Refusal):
    """A booking that cannot be made as asked; str() is for people."""


class SlotTaken(BookingError, Conflict):
    """The therapist is already busy then (HTTP 409)."""


class NotYourCalendar(BookingError):
    """A therapist booking into another therapist's calendar (HTTP 403)."""

    status = 403


def check_calendar(therapist: Therapist, booked_by: Membership | None) -> None:
    """A therapist books only into their own calendar; the desk, owners and managers anyone's."""
    if booked_by is None or booked_by.role != Role.THERAPIST:
        return
    if therapist.membership_id != booked_by.id:
        raise NotYourCalendar("You can book only into your own calendar.")


def _lock_schedule(therapist: Therapist, room: Room | None = None) -> None:
    """Lock the therapist's schedule, then the room's (always in this order)."""
    therapist.schedule_version += 1
    db.session.flush()
    if room is not None:
        room.schedule_version += 1
        db.session.flush()


def _check_bookable(
    clinic: Clinic,
    therapist: Therapist,
    service: Service,
    location: Location,
    room: Room | None,
    starts_at: datetime,
) -> None:
    if starts_at.tzinfo is None:
        raise BookingError("The start time needs a timezone.")
    if not therapist.active:
        raise BookingError(f"{therapist.display_name} is no longer taking bookings.")
    if not service.active:
        raise BookingError(f"{service.name} is no longer offered.")
    if not location.active:
        raise BookingError(f"{location.name} is closed for bookings.")
    if room is not None and (room.location_id != location.id or not room.active):
        raise BookingError("Choose a room at the same site.")
    offers = db.session.scalar(
        select(ServiceTherapist.id).where(
            ServiceTherapist.service_id == service.id,
            ServiceTherapist.therapist_id == therapist.id,
        )
    )
    if offers is None:
        raise BookingError(f"{therapist.display_name} does not offer {service.name}.")
    span = Interval(
        starts_at, starts_at + timedelta(minutes=service.duration_minutes + service.buffer_minutes)
    )
    local_day = starts_at.astimezone(clinic.tz).date()
    blocks = working_blocks([therapist.id], local_day, local_day, clinic.tz)[therapist.id]
    if not any(b.location_id == location.id and b.interval.contains(span) for b in blocks):
        raise BookingError(
            f"{therapist.display_name} is not working at {location.name} for the whole of that "
            "time (the session and its recovery buffer)."
        )
    if time_off_between([therapist.id], span.start, span.end)[therapist.id]:
        raise BookingError(f"{therapist.display_name} is away then.")


def _check_notice(clinic: Clinic, starts_at: datetime, now: datetime | None) -> None:
    """The clinic's minimum notice: for the desk as for anyone, with no override (0: none)."""
    hours = clinic.booking_notice_hours
    if hours and starts_at < (now or utcnow()) + timedelta(hours=hours):
        raise BookingError(
            f"{clinic.name} takes bookings at least {hours} hour{'s' if hours != 1 else ''} "
            "ahead (Settings, booking policy): choose a later time."
        )


def _clash(therapist: Therapist, start: datetime, until: datetime, exclude=None) -> Appointment:
    query = select(Appointment).where(
        Appointment.therapist_id == therapist.id,
        Appointment.status != AppointmentStatus.CANCELLED,
        Appointment.starts_at < until,
        Appointment.blocked_until > start,
    )
    if exclude is not None:
        query = query.where(Appointment.id != exclude.id)
    return db.session.scalars(query.limit(1)).first()


def _room_clash(room: Room, start: datetime, until: datetime, exclude=None) -> Appointment:
    query = select(Appointment).where(
        Appointment.room_id == room.id,
        Appointment.status != AppointmentStatus.CANCELLED,
        Appointment.starts_at < until,
        Appointment.blocked_until > start,
    )
    if exclude is not None:
        query = query.where(Appointment.id != exclude.id)
    return db.session.scalars(query.order_by(Appointment.starts_at).limit(1)).first()


def _check_room_free(
    clinic: Clinic, room: Room | None, start: datetime, until: datetime, exclude=None
) -> None:
    """Refuse a room that another live appointment uses for part of that time (its buffer too)."""
    if room is None:
        return
    taken = _room_clash(room, start, until, exclude)
    if taken is not None:
        tz = clinic.tz
        raise SlotTaken(
            f"{room.name} is already booked from {display.time(taken.starts_at, tz)} to "
            f"{display.time(taken.blocked_until, tz)} on {display.weekday_day(taken.starts_at, tz)}"
            ": choose another room or time."
        )


def _write_guarded(therapist: Therapist, room: Room | None, apply: Callable[[], None]) -> None:
    """Apply and flush a change inside a savepoint where PostgreSQL itself may refuse an overlap.

    The change is applied inside the savepoint because opening one flushes what is pending.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        apply()
        db.session.flush()
        return
    try:
        with db.session.begin_nested():
            apply()
            db.session.flush()
    except IntegrityError as error:
        if room is not None and "appointment_room_no_overlap" in str(error.orig):
            raise SlotTaken(f"{room.name} was booked at that time a moment ago.") from error
        if "appointment_no_overlap" in str(error.orig):
            raise SlotTaken(
                f"{therapist.display_name} was booked at that time a moment ago."
            ) from error
        raise


def book(
    clinic: Clinic,
    *,
    client: Client,
    therapist: Therapist,
    service: Service,
    location: Location,
    starts_at: datetime,
    room: Room | None = None,
    booked_by: Membership | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book a client in, or raise BookingError (SlotTaken when the time is no longer free;
    NotYourCalendar when a therapist books for another therapist)."""
    check_calendar(therapist, booked_by)
    _check_bookable(clinic, therapist, service, location, room, starts_at)
    _check_notice(clinic, starts_at, now)
    ends_at = starts_at + timedelta(minutes=service.duration_minutes)
    blocked_until = ends_at + timedelta(minutes=service.buffer_minutes)
    _lock_schedule(therapist, room)
    if _clash(therapist, starts_at, blocked_until) is not None:
        raise SlotTaken(f"{therapist.display_name} is already booked at that time.")
    _check_room_free(clinic, room, starts_at, blocked_until)
    local_day = starts_at.astimezone(clinic.tz).date()
    appointment = Appointment(
        price_minor=price_for(service, local_day, therapist.tier_id),
        client_id=client.id,
        therapist_id=therapist.id,
        service_id=service.id,
        location_id=location.id,
        room_id=room.id if room else None,
        booked_by_id=booked_by.id if booked_by else None,
        starts_at=starts_at,
        ends_at=ends_at,
        blocked_until=blocked_until,
        note=note,
    )
    _write_guarded(therapist, room, lambda: db.session.add(appointment))
    return appointment


def reschedule(
    clinic: Clinic,
    appointment: Appointment,
    *,
    starts_at: datetime,
    therapist: Therapist | None = None,
    location: Location | None = None,
    room: Room | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Move a booked appointment to another time (and optionally therapist or site)."""
    if appointment.status != AppointmentStatus.BOOKED:
        raise BookingError(f"A {appointment.status.label.lower()} appointment cannot be moved.")
    therapist = therapist or appointment.therapist
    location = location or appointment.location
    service = appointment.service
    _check_bookable(clinic, therapist, service, location, room, starts_at)
    if starts_at != appointment.starts_at:
        _check_notice(clinic, starts_at, now)
    ends_at = starts_at + timedelta(minutes=service.duration_minutes)
    blocked_until = ends_at + timedelta(minutes=service.buffer_minutes)
    _lock_schedule(therapist, room)
    if _clash(therapist, starts_at, blocked_until, exclude=appointment) is not None:
        raise SlotTaken(f"{therapist.display_name} is already booked at that time.")
    _check_room_free(clinic, room, starts_at, blocked_until, exclude=appointment)

    def move() -> None:
        appointment.therapist_id = therapist.id
        appointment.location_id = location.id
        appointment.room_id = room.id if room else None
        appointment.starts_at, appointment.ends_at = starts_at, ends_at
        appointment.blocked_until = blocked_until

    _write_guarded(therapist, room, move)
    return appointment


def room_after_move(appointment: Appointment, location: Location) -> Room | None:
    """The appointment's room, kept only while the move stays at its site and it is in use."""
    room = appointment.room
    if room is not None and (room.location_id != location.id or not room.active):
        return None
    return room


TRANSITIONS = {
    AppointmentStatus.BOOKED: {
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.NO_SHOW,
    },
    AppointmentStatus.CHECKED_IN: {AppointmentStatus.COMPLETED, AppointmentStatus.BOOKED},
    AppointmentStatus.COMPLETED: set(),
    AppointmentStatus.CANCELLED: set(),
    AppointmentStatus.NO_SHOW: {AppointmentStatus.BOOKED},
}


def _move(appointment: Appointment, target: AppointmentStatus) -> None:
    if target not in TRANSITIONS[appointment.status]:
        raise BookingError(
            f"A {appointment.status.label.lower()} appointment cannot be marked "
            f"{target.label.lower()}."
        )
    appointment.status = target


def check_in(appointment: Appointment, now: datetime | None = None) -> None:
    _move(appointment, AppointmentStatus.CHECKED_IN)
    appointment.checked_in_at = now or utcnow()
    db.session.flush()


def undo_check_in(appointment: Appointment) -> None:
    _move(appointment, AppointmentStatus.BOOKED)
    appointment.checked_in_at = None
    db.session.flush()


def complete(clinic: Clinic, appointment: Appointment, now: datetime | None = None) -> None:
    """Complete a checked-in session once it has started (completing uses up a paid session)."""
    now = now or utcnow()
    if now < appointment.starts_at:
        raise BookingError(
            "This session has not started yet: it can be completed from "
            f"{display.clock_on_day(appointment.starts_at, clinic.tz)}, its start time."
        )
    _move(appointment, AppointmentStatus.COMPLETED)
    appointment.completed_at = now
    db.session.flush()


def mark_no_show(appointment: Appointment, now: datetime | None = None) -> None:
    if (now or utcnow()) < appointment.starts_at:
        raise BookingError("An appointment can only be a no-show once its start time has passed.")
    _move(appointment, AppointmentStatus.NO_SHOW)
    db.session.flush()


def undo_no_show(appointment: Appointment) -> None:
    """Put a mistaken no-show back; its time must still be free."""
    therapist, room = appointment.therapist, appointment.room
    _lock_schedule(therapist, room)
    if _clash(therapist, appointment.starts_at, appointment.blocked_until, exclude=appointment):
        raise SlotTaken("That time has been booked for someone else since.")
    if room and _room_clash(room, appointment.starts_at, appointment.blocked_until, appointment):
        raise SlotTaken(f"{room.name} has been booked for someone else at that time since.")
    _move(appointment, AppointmentStatus.BOOKED)
    db.session.flush()


def is_late_cancellation(clinic: Clinic, appointment: Appointment, now: datetime) -> bool:
    return appointment.starts_at - now < timedelta(hours=clinic.late_cancellation_hours)


def cancel(
    clinic: Clinic, appointment: Appointment, reason: str | None, now: datetime | None = None
) -> None:
    """Cancel; inside the clinic's late-cancellation window the cancellation is flagged late."""
    now = now or utcnow()
    _move(appointment, AppointmentStatus.CANCELLED)
    appointment.cancelled_at = now
    appointment.cancellation_reason = (reason or "").strip() or None
    appointment.late_cancellation = is_late_cancellation(clinic, appointment, now)
    db.session.flush()
