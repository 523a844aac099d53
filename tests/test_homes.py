"""Each role's home page: the desk's day at a glance, a therapist's day, the owner's numbers; each
in a fixed number of SQL statements, and no clinical content for the desk."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.clinic_time import today_in
from clinic_saas.extensions import db
from clinic_saas.models import Appointment, AppointmentStatus, AuditEvent, Client, Clinic
from clinic_saas.scheduling import today as homes

from .factories import add_appointment, add_intake, build_schedule
from .test_appointments import LONDON, _add_therapist, _link_login
from .test_red_flags import FLAGGED, SITES

HOME = "/c/northside/"
MONDAY = date(2031, 3, 3)  # GMT: local times are UTC


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a, weekdays=range(7))


def _today(app, schedule) -> date:
    with app.app_context():
        return today_in(db.session.get(Clinic, schedule.clinic_id))


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


def _set(app, schedule, appointment_id, **values):
    with app.app_context():
        tenancy.bind(db.session.get(Clinic, schedule.clinic_id))
        row = db.session.scalar(select(Appointment).where(Appointment.id == appointment_id))
        for name, value in values.items():
            setattr(row, name, value)
        db.session.commit()


def _add_client(app, schedule, first: str, created_at: datetime | None = None):
    with app.app_context():
        tenancy.bind(db.session.get(Clinic, schedule.clinic_id))
        client = Client(first_name=first, last_name="Client", email=f"{first}@example.com")
        if created_at:
            client.created_at = created_at
        db.session.add(client)
        db.session.commit()
        return client.id


def _on(app, schedule, fn):
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            return fn(clinic)


# The desk --------------------------------------------------------------------------------------


def test_the_desk_day_sorts_today_into_due_next_intakes_and_flags(app, schedule):
    add_intake(app, schedule, codes=FLAGGED, sites=SITES)  # Ada: flagged, current
    bea = _add_client(app, schedule, "Bea")  # no intake
    early = add_appointment(app, schedule, _local(MONDAY, 9, 30), minutes=45, buffer=0)
    due = add_appointment(app, schedule, _local(MONDAY, 10, 20))
    later = add_appointment(app, schedule, _local(MONDAY, 14))
    done = add_appointment(app, schedule, _local(MONDAY, 8))
    gone = add_appointment(app, schedule, _local(MONDAY, 16))
    add_appointment(app, schedule, _local(MONDAY + timedelta(days=1), 10))  # tomorrow
    _set(app, schedule, due, client_id=bea)
    _set(app, schedule, done, status=AppointmentStatus.COMPLETED)
    _set(app, schedule, gone, status=AppointmentStatus.CANCELLED)
    now = _local(MONDAY, 10)

    desk = _on(app, schedule, lambda clinic: homes.desk_day(clinic, MONDAY, now))

    def ids(visits):
        return [v.appointment.id for v in visits]

    assert ids(desk.due) == [early, due]  # started and not checked in, or within half an hour
    assert ids(desk.next_up) == [due, later]
    assert ids(desk.intakes_needed) == [due]  # Bea has none
    assert ids(desk.flagged) == [early, later]  # Ada's, still to come; not the completed one


def test_the_reception_home_shows_that_flags_exist_but_never_what_they_say(
    app, client, auth, clinic_a, schedule
):
    add_intake(app, schedule, codes=FLAGGED, sites=SITES)
    bea = _add_client(app, schedule, "Bea")
    today = _today(app, schedule)
    add_appointment(app, schedule, _local(today, 12), minutes=45, buffer=0)
    _set(app, schedule, add_appointment(app, schedule, _local(today, 13)), client_id=bea)
    auth.login_as("receptionist", clinic_a)
    page = client.get(HOME)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-testid="desk-home"' in text
    assert 'data-testid="flags-count">1<' in text
    assert 'data-testid="intakes-needed-count">1<' in text
    assert "No intake on file" in text and "Bea Client" in text
    assert "Red flag" in text
    for secret in ("Varicose", "left calf", "Fever", "no treatment today"):
        assert secret not in text
    assert _on(app, schedule, lambda c: db.session.scalars(select(AuditEvent)).all()) == []


# A therapist -----------------------------------------------------------------------------------


def test_a_therapists_home_is_their_own_day(app, client, auth, clinic_a, schedule):
    other = _add_therapist(app, schedule, "Olu Other")
    today = _today(app, schedule)
    add_appointment(app, schedule, _local(today, 12))
    theirs = add_appointment(app, schedule, _local(today, 14))
    _set(app, schedule, theirs, therapist_id=other)
    _link_login(app, schedule, clinic_a)
    auth.login_as("therapist", clinic_a)
    text = client.get(HOME).get_data(as_text=True)
    assert 'data-testid="therapist-home"' in text
    assert 'data-testid="my-day-count">1<' in text
    assert "12:00" in text and "14:00" not in text


def test_a_therapist_without_a_profile_is_told_so(client, auth, clinic_a, schedule):
    auth.login_as("therapist", clinic_a)
    assert 'data-testid="no-profile"' in client.get(HOME).get_data(as_text=True)


# The owner -------------------------------------------------------------------------------------


def test_the_owners_numbers_for_today_and_the_week(app, schedule):
    wednesday = MONDAY + timedelta(days=2)
    add_appointment(app, schedule, _local(wednesday, 10))  # 60 minutes
    add_appointment(app, schedule, _local(wednesday, 12))
    no_show = add_appointment(app, schedule, _local(wednesday, 14))
    cancelled = add_appointment(app, schedule, _local(wednesday, 16))
    add_appointment(app, schedule, _local(MONDAY, 10))
    add_appointment(app, schedule, _local(MONDAY + timedelta(days=7), 10))  # next week
    _set(app, schedule, no_show, status=AppointmentStatus.NO_SHOW)
    _set(app, schedule, cancelled, status=AppointmentStatus.CANCELLED)
    _add_client(app, schedule, "Cy", created_at=_local(wednesday, 9))
    _add_client(app, schedule, "Di", created_at=_local(MONDAY, 9))
    _add_client(app, schedule, "Ed", created_at=_local(MONDAY - timedelta(days=1), 9))

    numbers = _on(app, schedule, lambda clinic: homes.clinic_numbers(clinic, wednesday))

    assert numbers.week_first == MONDAY
    today, week = numbers.today, numbers.week
    assert (today.appointments, today.booked_minutes, today.no_shows) == (2, 120, 1)
    assert today.rostered_minutes == 8 * 60
    assert today.booked_share == 25
    assert today.new_clients == 1
    assert (week.appointments, week.booked_minutes, week.no_shows) == (3, 180, 1)
    assert week.rostered_minutes == 7 * 8 * 60
    assert week.new_clients == 2


def test_time_off_is_not_counted_as_rostered_hours(app, schedule):
    from clinic_saas.models import TimeOff, TimeOffKind

    wednesday = MONDAY + timedelta(days=2)

    def away(clinic):
        db.session.add_all(
            [
                # A morning off on Wednesday (two hours of a 09:00-17:00 shift) ...
                TimeOff(
                    therapist_id=schedule.therapist_id,
                    kind=TimeOffKind.HOLIDAY,
                    starts_at=_local(wednesday, 7),
                    ends_at=_local(wednesday, 11),
                ),
                # ... overlapping an hour of training, and all of Thursday.
                TimeOff(
                    therapist_id=schedule.therapist_id,
                    kind=TimeOffKind.TRAINING,
                    starts_at=_local(wednesday, 10),
                    ends_at=_local(wednesday, 12),
                ),
                TimeOff(
                    therapist_id=schedule.therapist_id,
                    kind=TimeOffKind.SICKNESS,
                    starts_at=_local(wednesday + timedelta(days=1), 0),
                    ends_at=_local(wednesday + timedelta(days=2), 0),
                ),
            ]
        )
        db.session.commit()

    _on(app, schedule, away)
    numbers = _on(app, schedule, lambda clinic: homes.clinic_numbers(clinic, wednesday))
    assert numbers.today.rostered_minutes == 5 * 60  # 12:00 to 17:00
    assert numbers.week.rostered_minutes == (7 * 8 - 3 - 8) * 60


def test_the_owners_home_shows_the_numbers(app, client, auth, clinic_a, schedule):
    add_appointment(app, schedule, _local(_today(app, schedule), 12))
    auth.login_as("owner", clinic_a)
    text = client.get(HOME).get_data(as_text=True)
    assert 'data-testid="owner-home"' in text
    assert 'data-testid="today-appointments">1<' in text
    assert 'data-testid="today-hours">1.0 / 8.0' in text


# A fixed number of statements ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "receptionist", "therapist"])
def test_each_home_runs_as_many_statements_for_one_appointment_as_for_ten(
    app, client, auth, clinic_a, schedule, count_queries, role
):
    add_intake(app, schedule, codes=FLAGGED, sites=SITES)
    _link_login(app, schedule, clinic_a)
    today = _today(app, schedule)
    auth.login_as(role, clinic_a)

    def home():
        page = client.get(HOME)
        assert page.status_code == 200
        return page.get_data(as_text=True)

    # half-hour visits, one after another: one therapist's day never overlaps
    add_appointment(app, schedule, _local(today, 9), minutes=30, buffer=0)
    one, text = count_queries(home)
    assert ("Ada Runner" in text) == (role != "owner")
    for n in range(9):
        client_id = _add_client(app, schedule, f"C{n}")
        starts = _local(today, 10 + n // 2, 30 * (n % 2))
        appointment = add_appointment(app, schedule, starts, minutes=30, buffer=0)
        _set(app, schedule, appointment, client_id=client_id)
    ten, text = count_queries(home)
    assert ("C8 Client" in text) == (role != "owner")
    assert ten == one
