"""Booking rules in the domain layer: no double booking, even when two requests race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import (
    Appointment,
    AppointmentStatus,
    Client,
    Clinic,
    Location,
    Room,
    Service,
    Therapist,
)
from clinic_saas.scheduling import booking
from clinic_saas.scheduling.booking import BookingError, SlotTaken

from .factories import add_time_off, build_schedule

MONDAY_10 = datetime(2031, 3, 3, 10, tzinfo=UTC)  # 10:00 in London (GMT)


def _load(schedule):
    clinic = db.session.get(Clinic, schedule.clinic_id)
    tenancy.bind(clinic)
    key = lambda ident: (clinic.id, ident)  # noqa: E731
    return {
        "clinic": clinic,
        "client": db.session.get(Client, key(schedule.client_id)),
        "therapist": db.session.get(Therapist, key(schedule.therapist_id)),
        "service": db.session.get(Service, key(schedule.service_id)),
        "location": db.session.get(Location, key(schedule.location_id)),
    }


def _book(objects, starts_at):
    return booking.book(
        objects["clinic"],
        client=objects["client"],
        therapist=objects["therapist"],
        service=objects["service"],
        location=objects["location"],
        starts_at=starts_at,
    )


def _count(app, schedule) -> int:
    with app.app_context():
        _load(schedule)
        return db.session.scalar(
            select(func.count())
            .select_from(Appointment)
            .where(Appointment.status != AppointmentStatus.CANCELLED)
        )


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


def test_booking_blocks_the_session_and_its_buffer(app, schedule):
    with app.app_context():
        objects = _load(schedule)
        appointment = _book(objects, MONDAY_10)
        assert appointment.ends_at == MONDAY_10 + timedelta(minutes=60)
        assert appointment.blocked_until == MONDAY_10 + timedelta(minutes=75)
        with pytest.raises(SlotTaken):
            _book(objects, MONDAY_10 + timedelta(minutes=70))  # inside the buffer
        with pytest.raises(SlotTaken):
            _book(objects, MONDAY_10 - timedelta(minutes=30))  # its buffer runs into 10:00
        follow_on = _book(objects, MONDAY_10 + timedelta(minutes=75))
        assert follow_on.starts_at == MONDAY_10 + timedelta(minutes=75)
        db.session.commit()
    assert _count(app, schedule) == 2


@pytest.mark.parametrize(
    ("starts_at", "message"),
    [
        (datetime(2031, 3, 3, 16, 30, tzinfo=UTC), "not working"),  # 16:30 + 75 min > 17:00
        (datetime(2031, 3, 1, 10, tzinfo=UTC), "not working"),  # a Saturday
        (datetime(2031, 3, 3, 8, tzinfo=UTC), "not working"),
        (datetime(2031, 3, 3, 10), "needs a timezone"),  # noqa: DTZ001 (naive on purpose)
    ],
)
def test_booking_outside_working_time_is_refused(app, schedule, starts_at, message):
    with app.app_context():
        objects = _load(schedule)
        with pytest.raises(BookingError, match=message):
            _book(objects, starts_at)


def test_booking_during_time_off_is_refused(app, schedule):
    add_time_off(app, schedule, MONDAY_10, MONDAY_10 + timedelta(hours=2))
    with app.app_context():
        objects = _load(schedule)
        with pytest.raises(BookingError, match="away"):
            _book(objects, MONDAY_10 + timedelta(minutes=30))


def test_a_cancelled_appointment_frees_its_time(app, schedule):
    with app.app_context():
        objects = _load(schedule)
        first = _book(objects, MONDAY_10)
        booking.cancel(objects["clinic"], first, "client unwell", now=MONDAY_10 - timedelta(days=3))
        assert first.late_cancellation is False
        again = _book(objects, MONDAY_10)
        db.session.commit()
        assert again.status == AppointmentStatus.BOOKED


def test_cancelling_inside_the_window_is_flagged_late(app, schedule):
    with app.app_context():
        objects = _load(schedule)
        appointment = _book(objects, MONDAY_10)
        booking.cancel(objects["clinic"], appointment, None, now=MONDAY_10 - timedelta(hours=3))
        assert appointment.late_cancellation is True
        assert appointment.status == AppointmentStatus.CANCELLED


def test_status_moves_only_along_the_allowed_paths(app, schedule):
    with app.app_context():
        objects = _load(schedule)
        appointment = _book(objects, MONDAY_10)
        with pytest.raises(BookingError):
            booking.complete(objects["clinic"], appointment, now=MONDAY_10)  # not checked in
        with pytest.raises(BookingError, match="start time has passed"):
            booking.mark_no_show(appointment, now=MONDAY_10 - timedelta(minutes=5))
        booking.check_in(appointment, now=MONDAY_10 - timedelta(minutes=10))
        with pytest.raises(BookingError, match="can be completed from"):
            booking.complete(objects["clinic"], appointment, now=MONDAY_10 - timedelta(minutes=5))
        assert appointment.status == AppointmentStatus.CHECKED_IN
        booking.complete(objects["clinic"], appointment, now=MONDAY_10 + timedelta(hours=1))
        assert appointment.status == AppointmentStatus.COMPLETED
        with pytest.raises(BookingError):
            booking.cancel(objects["clinic"], appointment, "too late")


def test_rescheduling_checks_the_new_time_and_ignores_its_own_old_one(app, schedule):
    with app.app_context():
        objects = _load(schedule)
        first = _book(objects, MONDAY_10)
        second = _book(objects, MONDAY_10 + timedelta(hours=2))
        booking.reschedule(objects["clinic"], first, starts_at=MONDAY_10 + timedelta(minutes=30))
        assert first.blocked_until == MONDAY_10 + timedelta(minutes=105)
        with pytest.raises(SlotTaken):
            booking.reschedule(
                objects["clinic"], first, starts_at=MONDAY_10 + timedelta(hours=1, minutes=30)
            )
        assert second.starts_at == MONDAY_10 + timedelta(hours=2)


def test_the_database_itself_refuses_overlaps_on_postgresql(app, schedule):
    """On PostgreSQL an exclusion constraint refuses what bypasses booking.book; SQLite has none,
    so there booking.book (tested above and in the race below) is the only guard."""
    with app.app_context():
        objects = _load(schedule)
        dialect = db.session.get_bind().dialect.name
        for start in (MONDAY_10, MONDAY_10 + timedelta(minutes=30)):
            db.session.add(
                Appointment(
                    client_id=schedule.client_id,
                    therapist_id=schedule.therapist_id,
                    service_id=schedule.service_id,
                    location_id=schedule.location_id,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=60),
                    blocked_until=start + timedelta(minutes=75),
                )
            )
        if dialect == "postgresql":
            with pytest.raises(IntegrityError, match="appointment_no_overlap"):
                db.session.flush()
            db.session.rollback()
        else:
            db.session.flush()
            assert dialect == "sqlite"
            db.session.rollback()
        del objects


@pytest.mark.parametrize("attempts", [2, 4])
def test_racing_bookings_for_one_slot_let_exactly_one_win(app, schedule, attempts):
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt():
        with app.app_context():
            objects = _load(schedule)
            barrier.wait()
            try:
                _book(objects, MONDAY_10)
                db.session.commit()
                result = "booked"
            except SlotTaken:
                db.session.rollback()
                result = "refused"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["booked"] + ["refused"] * (attempts - 1)
    assert _count(app, schedule) == 1


def test_a_moved_appointment_keeps_its_room_only_at_its_site_while_in_use(app, schedule):
    with app.app_context():
        objects = _load(schedule)
        room = db.session.get(Room, (schedule.clinic_id, schedule.room_id))
        appointment = _book(objects, MONDAY_10)
        appointment.room = room
        elsewhere = Location(name="Quay Rd", address="2 Quay Rd")
        db.session.add(elsewhere)
        db.session.flush()
        assert booking.room_after_move(appointment, objects["location"]) is room
        assert booking.room_after_move(appointment, elsewhere) is None
        room.active = False
        assert booking.room_after_move(appointment, objects["location"]) is None
        db.session.rollback()


def test_a_booking_inside_the_minimum_notice_is_refused(app, schedule):
    with app.app_context():
        objects = _load(schedule)
        objects["clinic"].booking_notice_hours = 24
        now = MONDAY_10 - timedelta(hours=23)
        with pytest.raises(BookingError, match="at least 24 hours ahead"):
            booking.book(
                objects["clinic"],
                client=objects["client"],
                therapist=objects["therapist"],
                service=objects["service"],
                location=objects["location"],
                starts_at=MONDAY_10,
                now=now,
            )
        appointment = booking.book(
            objects["clinic"],
            client=objects["client"],
            therapist=objects["therapist"],
            service=objects["service"],
            location=objects["location"],
            starts_at=MONDAY_10,
            now=MONDAY_10 - timedelta(hours=24),
        )
        with pytest.raises(BookingError, match="at least 24 hours ahead"):
            booking.reschedule(
                objects["clinic"],
                appointment,
                starts_at=MONDAY_10 + timedelta(hours=1),
                now=MONDAY_10,
            )
