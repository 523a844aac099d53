"""A room is never double-booked: its live appointments never overlap, even when bookings race."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

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
    ServiceTherapist,
    Shift,
    Therapist,
)
from clinic_saas.scheduling import booking
from clinic_saas.scheduling.booking import SlotTaken
from clinic_saas.scheduling.free_times import SlotChoice

from .factories import build_schedule

MONDAY_1315 = datetime(2031, 3, 3, 13, 15, tzinfo=UTC)  # 13:15 in London (GMT)
TAKEN = "Room 1 is already booked from 13:15 to 14:30 on Mon 3 Mar 2031"
BOOK = "/c/northside/appointments"


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


def _add_therapists(app, schedule, count: int) -> list:
    """More therapists offering the schedule's service at its site, weekdays 09:00-17:00."""
    with app.app_context():
        tenancy.bind(db.session.get(Clinic, schedule.clinic_id))
        ids = []
        for number in range(count):
            therapist = Therapist(display_name=f"Therapist {number + 2}")
            db.session.add(therapist)
            db.session.flush()
            db.session.add(
                ServiceTherapist(service_id=schedule.service_id, therapist_id=therapist.id)
            )
            db.session.add_all(
                Shift(
                    therapist_id=therapist.id,
                    location_id=schedule.location_id,
                    weekday=weekday,
                    start_time=time(9),
                    end_time=time(17),
                    valid_from=date(2020, 1, 6),
                )
                for weekday in range(5)
            )
            ids.append(therapist.id)
        db.session.commit()
        db.session.remove()
        return ids


def _load(schedule):
    clinic = db.session.get(Clinic, schedule.clinic_id)
    tenancy.bind(clinic)
    key = lambda ident: (clinic.id, ident)  # noqa: E731
    return {
        "clinic": clinic,
        "client": db.session.get(Client, key(schedule.client_id)),
        "service": db.session.get(Service, key(schedule.service_id)),
        "location": db.session.get(Location, key(schedule.location_id)),
        "room": db.session.get(Room, key(schedule.room_id)),
        "therapist": lambda ident: db.session.get(Therapist, key(ident)),
    }


def _book(objects, therapist_id, starts_at, room="room"):
    return booking.book(
        objects["clinic"],
        client=objects["client"],
        therapist=objects["therapist"](therapist_id),
        service=objects["service"],
        location=objects["location"],
        starts_at=starts_at,
        room=objects[room] if room else None,
    )


def _in_room(app, schedule) -> int:
    with app.app_context():
        _load(schedule)
        return db.session.scalar(
            select(func.count())
            .select_from(Appointment)
            .where(
                Appointment.room_id == schedule.room_id,
                Appointment.status != AppointmentStatus.CANCELLED,
            )
        )


def test_a_room_in_use_is_refused_to_another_therapist_with_the_room_and_time(app, schedule):
    (other,) = _add_therapists(app, schedule, 1)
    with app.app_context():
        objects = _load(schedule)
        _book(objects, schedule.therapist_id, MONDAY_1315)
        for overlapping in (MONDAY_1315, MONDAY_1315 + timedelta(minutes=70)):  # buffer included
            with pytest.raises(SlotTaken, match=TAKEN + ": choose another room or time."):
                _book(objects, other, overlapping)
        assert _book(objects, other, MONDAY_1315, room=None).room_id is None
        after = _book(objects, other, MONDAY_1315 + timedelta(minutes=75))
        assert after.room_id == schedule.room_id
        db.session.commit()
    assert _in_room(app, schedule) == 2


def test_a_cancelled_appointment_frees_its_room(app, schedule):
    (other,) = _add_therapists(app, schedule, 1)
    with app.app_context():
        objects = _load(schedule)
        first = _book(objects, schedule.therapist_id, MONDAY_1315)
        booking.cancel(objects["clinic"], first, None, now=MONDAY_1315 - timedelta(days=2))
        assert _book(objects, other, MONDAY_1315).room_id == schedule.room_id


def test_moving_into_a_room_at_a_taken_time_is_refused_and_changes_nothing(app, schedule):
    (other,) = _add_therapists(app, schedule, 1)
    with app.app_context():
        objects = _load(schedule)
        _book(objects, schedule.therapist_id, MONDAY_1315)
        later = _book(objects, other, MONDAY_1315 + timedelta(hours=2))
        db.session.commit()
        moved_id = later.id
        with pytest.raises(SlotTaken, match=TAKEN):
            booking.reschedule(
                objects["clinic"],
                later,
                starts_at=MONDAY_1315 + timedelta(minutes=30),
                room=objects["room"],
            )
        db.session.rollback()
        # Into the room from no room at all: the same rule.
        later.room_id = None
        db.session.flush()
        with pytest.raises(SlotTaken, match=TAKEN):
            booking.reschedule(
                objects["clinic"], later, starts_at=MONDAY_1315, room=objects["room"]
            )
        db.session.rollback()
    with app.app_context():
        _load(schedule)
        kept = db.session.scalar(select(Appointment).where(Appointment.id == moved_id))
        assert kept.starts_at == MONDAY_1315 + timedelta(hours=2)
        assert kept.room_id == schedule.room_id


def test_the_booking_page_answers_a_room_clash_with_a_409_naming_room_and_time(
    app, client, auth, clinic_a, schedule
):
    (other,) = _add_therapists(app, schedule, 1)
    with app.app_context():
        _book(_load(schedule), schedule.therapist_id, MONDAY_1315)
        db.session.commit()
    auth.login_as("receptionist", clinic_a)
    answer = client.post_form(
        f"{BOOK}/new",
        {
            "service": str(schedule.service_id),
            "slot": SlotChoice(other, schedule.location_id, MONDAY_1315).value,
            "date": "2031-03-03",
            "room": str(schedule.room_id),
            "client": str(schedule.client_id),
            "note": "",
        },
    )
    assert answer.status_code == 409
    assert TAKEN in answer.get_data(as_text=True)
    assert _in_room(app, schedule) == 1


def test_the_database_itself_refuses_room_overlaps_on_postgresql(app, schedule):
    (other,) = _add_therapists(app, schedule, 1)
    with app.app_context():
        _load(schedule)
        for therapist_id in (schedule.therapist_id, other):
            db.session.add(
                Appointment(
                    client_id=schedule.client_id,
                    therapist_id=therapist_id,
                    service_id=schedule.service_id,
                    location_id=schedule.location_id,
                    room_id=schedule.room_id,
                    starts_at=MONDAY_1315,
                    ends_at=MONDAY_1315 + timedelta(minutes=60),
                    blocked_until=MONDAY_1315 + timedelta(minutes=75),
                )
            )
        if db.session.get_bind().dialect.name == "postgresql":
            with pytest.raises(IntegrityError, match="appointment_room_no_overlap"):
                db.session.flush()
        else:
            db.session.flush()  # SQLite has no such constraint: booking.book is the guard
        db.session.rollback()


@pytest.mark.parametrize("attempts", [2, 4])
def test_racing_bookings_of_one_room_by_different_therapists_let_exactly_one_win(
    app, schedule, attempts
):
    therapists = [schedule.therapist_id, *_add_therapists(app, schedule, attempts - 1)]
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(therapist_id):
        with app.app_context():
            objects = _load(schedule)
            barrier.wait()
            try:
                _book(objects, therapist_id, MONDAY_1315)
                db.session.commit()
                result = "booked"
            except SlotTaken as refused:
                db.session.rollback()
                result = "refused" if "Room 1" in str(refused) else str(refused)
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(t,)) for t in therapists]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["booked"] + ["refused"] * (attempts - 1)
    assert _in_room(app, schedule) == 1
