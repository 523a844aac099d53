"""The appointment book through its pages: booking, the day sheet, moving, cancelling, statuses."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import (
    CALENDAR_COLOURS,
    Appointment,
    AppointmentStatus,
    Client,
    Clinic,
    Role,
    Service,
    ServiceTherapist,
    Shift,
    Therapist,
)
from clinic_saas.models.base import utcnow
from clinic_saas.scheduling.free_times import SlotChoice

from .factories import add_appointment, add_time_off, build_schedule

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2031, 6, 2)  # British Summer Time: 10:00 in London is 09:00 UTC
TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)
BOOK = "/c/northside/appointments"
DASH = "\N{EN DASH}"  # between the times of a session, as the pages print it


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in the clinic's zone, as the UTC instant that is stored."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


def _slot(schedule, starts_at: datetime, therapist_id=None) -> str:
    return SlotChoice(therapist_id or schedule.therapist_id, schedule.location_id, starts_at).value


def _book(http, schedule, starts_at: datetime, **fields):
    data = {
        "service": str(schedule.service_id),
        "slot": _slot(schedule, starts_at),
        "date": starts_at.astimezone(LONDON).date().isoformat(),
        "client": "new",
        "first_name": "Bea",
        "last_name": "Sprinter",
        "email": "Bea.Sprinter@Example.com",
        "phone": "",
        "note": "",
    }
    data.update(fields)
    return http.post_form(f"{BOOK}/new", data)


def _query(app, schedule, fn):
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            return fn()


def _count(app, schedule, model) -> int:
    return _query(app, schedule, lambda: db.session.scalar(select(func.count()).select_from(model)))


def _appointment(app, schedule, appointment_id) -> Appointment:
    return _query(
        app,
        schedule,
        lambda: db.session.scalar(select(Appointment).where(Appointment.id == appointment_id)),
    )


def _only_appointment(app, schedule) -> Appointment:
    return _query(app, schedule, lambda: db.session.scalars(select(Appointment)).one())


def _add_therapist(app, schedule, name: str, colour: str = "orange"):
    """A second therapist offering the schedule's service, weekdays 09:00-17:00 at its site."""

    def create():
        therapist = Therapist(display_name=name, calendar_colour=colour)
        db.session.add(therapist)
        db.session.flush()
        db.session.add(ServiceTherapist(service_id=schedule.service_id, therapist_id=therapist.id))
        for weekday in range(5):
            db.session.add(
                Shift(
                    therapist_id=therapist.id,
                    location_id=schedule.location_id,
                    weekday=weekday,
                    start_time=time(9),
                    end_time=time(17),
                    valid_from=date(2020, 1, 6),
                )
            )
        db.session.commit()
        return therapist.id

    return _query(app, schedule, create)


def _link_login(app, schedule, clinic_fixture, therapist_id=None, role=Role.THERAPIST):
    """Make a member's login the therapist profile (Therapist.membership_id)."""

    def link():
        therapist = db.session.scalar(
            select(Therapist).where(Therapist.id == (therapist_id or schedule.therapist_id))
        )
        therapist.membership_id = clinic_fixture.member_ids[role]
        db.session.commit()

    _query(app, schedule, link)


def _row_of(html: str, needle: str) -> str:
    """The data-time of the day-sheet row in which the cell containing `needle` starts."""
    position = html.index(needle)
    row = html.rindex('<tr data-time="', 0, position)
    return html[row + len('<tr data-time="') :].split('"', 1)[0]


# Booking -----------------------------------------------------------------------------------------


def test_receptionist_books_a_new_client_who_appears_on_the_day_sheet_at_local_time(
    app, client, auth, clinic_a, schedule
):
    auth.login_as("receptionist", clinic_a)
    found = client.get(
        f"{BOOK}/new", query_string={"service": schedule.service_id, "date": MONDAY.isoformat()}
    )
    assert found.status_code == 200
    assert _slot(schedule, at(MONDAY, 10)) in found.get_data(as_text=True)
    chosen = client.get(
        f"{BOOK}/new",
        query_string={"service": schedule.service_id, "slot": _slot(schedule, at(MONDAY, 10))},
    )
    assert chosen.status_code == 200
    assert f"10:00{DASH}11:00" in chosen.get_data(as_text=True)

    response = _book(client, schedule, at(MONDAY, 10), note="Parking at the back")
    assert response.status_code == 302
    assert response.location == f"{BOOK}/?date=2031-06-02"

    appointment = _only_appointment(app, schedule)
    assert appointment.starts_at == datetime(2031, 6, 2, 9, tzinfo=UTC)
    assert appointment.blocked_until == datetime(2031, 6, 2, 10, 15, tzinfo=UTC)
    assert appointment.booked_by_id == clinic_a.member_ids[Role.RECEPTIONIST]
    assert appointment.note == "Parking at the back"
    assert appointment.status == AppointmentStatus.BOOKED
    booked = _query(
        app, schedule, lambda: db.session.get(Client, (clinic_a.clinic_id, appointment.client_id))
    )
    assert (booked.full_name, booked.email) == ("Bea Sprinter", "bea.sprinter@example.com")

    sheet = client.get(response.location).get_data(as_text=True)
    assert "Booked Bea Sprinter with Tom Turner" in sheet
    assert _row_of(sheet, "Bea Sprinter</span>") == "10:00"
    assert 'data-starts="10:00"' in sheet
    assert f"10:00{DASH}11:00" in sheet


def test_booking_an_existing_client_found_by_search(app, client, auth, clinic_a, schedule):
    auth.login_as("receptionist", clinic_a)
    page = client.get(
        f"{BOOK}/new",
        query_string={
            "service": schedule.service_id,
            "slot": _slot(schedule, at(MONDAY, 11)),
            "q": "ada RUN",
        },
    )
    assert f'value="{schedule.client_id}"' in page.get_data(as_text=True)
    response = _book(
        client, schedule, at(MONDAY, 11), client=str(schedule.client_id), first_name=""
    )
    assert response.status_code == 302
    assert _only_appointment(app, schedule).client_id == schedule.client_id
    assert _count(app, schedule, Client) == 1


def test_a_second_booking_over_the_same_time_is_a_409_and_writes_nothing(
    app, client, auth, clinic_a, schedule
):
    add_appointment(app, schedule, at(MONDAY, 10))
    auth.login_as("receptionist", clinic_a)
    response = _book(client, schedule, at(MONDAY, 10, 30))
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Tom Turner is already booked at that time." in body
    assert _slot(schedule, at(MONDAY, 11, 15)) in body  # the day's fresh free times
    assert 'value="Bea"' in body  # what was typed is kept
    assert _count(app, schedule, Appointment) == 1
    assert _count(app, schedule, Client) == 1  # the new client was not half-written


@pytest.mark.parametrize(
    ("hour", "minute"),
    [(16, 30), (7, 0), (17, 0)],
    ids=["buffer-runs-past-the-shift", "before-the-shift", "after-the-shift"],
)
def test_booking_outside_the_shift_is_a_400_with_the_reason(
    app, client, auth, clinic_a, schedule, hour, minute
):
    auth.login_as("receptionist", clinic_a)
    response = _book(client, schedule, at(MONDAY, hour, minute))
    assert response.status_code == 400
    assert "Tom Turner is not working at Harbour St for the whole of that time" in (
        response.get_data(as_text=True)
    )
    assert _count(app, schedule, Appointment) == 0
    assert _count(app, schedule, Client) == 1


def test_booking_during_time_off_is_a_400(app, client, auth, clinic_a, schedule):
    add_time_off(app, schedule, at(MONDAY, 10), at(MONDAY, 12))
    auth.login_as("receptionist", clinic_a)
    response = _book(client, schedule, at(MONDAY, 11))
    assert response.status_code == 400
    assert "Tom Turner is away then." in response.get_data(as_text=True)
    assert _count(app, schedule, Appointment) == 0


def test_the_recovery_buffer_is_respected(app, client, auth, clinic_a, schedule):
    add_appointment(app, schedule, at(MONDAY, 10))  # 10:00-11:00, buffer to 11:15
    auth.login_as("receptionist", clinic_a)
    found = client.get(
        f"{BOOK}/new", query_string={"service": schedule.service_id, "date": MONDAY.isoformat()}
    ).get_data(as_text=True)
    assert _slot(schedule, at(MONDAY, 11)) not in found
    assert _slot(schedule, at(MONDAY, 11, 15)) in found
    assert _slot(schedule, at(MONDAY, 8, 45)) not in found
    assert _book(client, schedule, at(MONDAY, 11)).status_code == 409
    assert _book(client, schedule, at(MONDAY, 11, 15)).status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "phone": ""}, "Enter an email address or a phone number."),
        ({"first_name": "", "last_name": ""}, "Enter the client&#39;s name."),
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"client": "00000000-0000-0000-0000-000000000000"}, "Search for the client again"),
        ({"note": "x" * 501}, "500 characters"),
    ],
    ids=["no-contact", "no-name", "bad-email", "unknown-client", "long-note"],
)
def test_bad_booking_input_is_a_400_beside_the_field(
    app, client, auth, clinic_a, schedule, data, message
):
    auth.login_as("receptionist", clinic_a)
    response = _book(client, schedule, at(MONDAY, 10), **data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(app, schedule, Appointment) == 0


def test_a_booking_without_a_time_offers_the_free_times_again(
    app, client, auth, clinic_a, schedule
):
    auth.login_as("receptionist", clinic_a)
    response = _book(client, schedule, at(MONDAY, 10), slot="")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Choose a time." in body
    assert _slot(schedule, at(MONDAY, 10)) in body


def test_the_find_page_validates_its_search_and_never_fails(client, auth, clinic_a, schedule):
    auth.login_as("receptionist", clinic_a)
    assert client.get(f"{BOOK}/new").status_code == 200
    bad = client.get(f"{BOOK}/new", query_string={"service": "nope", "date": "2031-02-30"})
    assert bad.status_code == 400
    assert "Not a valid choice" in bad.get_data(as_text=True)
    empty = client.get(
        f"{BOOK}/new",
        query_string={"service": schedule.service_id, "date": "2031-06-07"},  # a Saturday
    )
    assert empty.status_code == 200
    text = empty.get_data(as_text=True)
    assert "No free times on this day" in text
    assert "Monday 9 June 2031" in text  # the next day with free times
    assert client.get(f"{BOOK}/?date=yesterday").status_code == 400
    assert client.get(f"{BOOK}/?date=9999-12-31").status_code == 400
    assert client.get(f"{BOOK}/?location=nowhere").status_code == 404
    assert client.get(f"{BOOK}/not-an-id").status_code == 404


# Moving and cancelling ---------------------------------------------------------------------------


def test_reschedule_offers_free_times_and_moves_the_appointment(
    app, client, auth, clinic_a, schedule
):
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    auth.login_as("receptionist", clinic_a)
    same_day = client.get(
        f"{BOOK}/{appointment_id}/reschedule", query_string={"date": "2031-06-02"}
    )
    assert same_day.status_code == 200
    # Its own time does not block it: half an hour later is offered.
    assert _slot(schedule, at(MONDAY, 10, 30)) in same_day.get_data(as_text=True)

    moved = client.post_form(
        f"{BOOK}/{appointment_id}/reschedule", {"slot": _slot(schedule, at(TUESDAY, 14))}
    )
    assert moved.status_code == 302
    appointment = _appointment(app, schedule, appointment_id)
    assert appointment.starts_at == at(TUESDAY, 14)
    assert appointment.blocked_until == at(TUESDAY, 15, 15)
    assert "Moved from" in client.get(moved.location).get_data(as_text=True)


def test_rescheduling_onto_a_taken_time_is_a_409_and_changes_nothing(
    app, client, auth, clinic_a, schedule
):
    moving = add_appointment(app, schedule, at(MONDAY, 10))
    add_appointment(app, schedule, at(TUESDAY, 14))
    auth.login_as("manager", clinic_a)
    response = client.post_form(
        f"{BOOK}/{moving}/reschedule", {"slot": _slot(schedule, at(TUESDAY, 14, 30))}
    )
    assert response.status_code == 409
    assert "already booked" in response.get_data(as_text=True)
    assert _appointment(app, schedule, moving).starts_at == at(MONDAY, 10)


def test_cancelling_inside_the_late_window_flags_it_late(app, client, auth, clinic_a, schedule):
    soon = add_appointment(app, schedule, utcnow().replace(microsecond=0) + timedelta(hours=3))
    auth.login_as("receptionist", clinic_a)
    detail = client.get(f"{BOOK}/{soon}").get_data(as_text=True)
    assert "late cancellation" in detail
    response = client.post_form(f"{BOOK}/{soon}/cancel", {"reason": "Client unwell"})
    assert response.status_code == 302
    appointment = _appointment(app, schedule, soon)
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.late_cancellation is True
    assert appointment.cancellation_reason == "Client unwell"
    assert "This is a late cancellation" in client.get(response.location).get_data(as_text=True)

    day = appointment.starts_at.astimezone(LONDON).date().isoformat()
    sheet = client.get(f"{BOOK}/?date={day}").get_data(as_text=True)
    cancelled = sheet[sheet.index('data-testid="cancelled"') :]
    assert "Ada Runner" in cancelled and "Late cancellation" in cancelled


def test_cancelling_outside_the_late_window_is_not_flagged(app, client, auth, clinic_a, schedule):
    later = add_appointment(app, schedule, utcnow().replace(microsecond=0) + timedelta(days=3))
    auth.login_as("receptionist", clinic_a)
    assert 'data-testid="late-warning"' not in client.get(f"{BOOK}/{later}").get_data(as_text=True)
    assert client.post_form(f"{BOOK}/{later}/cancel", {"reason": ""}).status_code == 302
    appointment = _appointment(app, schedule, later)
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.late_cancellation is False
    assert appointment.cancellation_reason is None


def test_a_cancelled_appointment_cannot_be_cancelled_or_moved_again(
    app, client, auth, clinic_a, schedule
):
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    auth.login_as("receptionist", clinic_a)
    client.post_form(f"{BOOK}/{appointment_id}/cancel", {})
    again = client.post_form(f"{BOOK}/{appointment_id}/cancel", {}, follow_redirects=True)
    assert again.status_code == 200
    assert "A cancelled appointment cannot be marked cancelled." in again.get_data(as_text=True)
    move = client.get(f"{BOOK}/{appointment_id}/reschedule", follow_redirects=True)
    assert "A cancelled appointment cannot be moved." in move.get_data(as_text=True)


# Statuses ----------------------------------------------------------------------------------------


def _press(client, appointment_id, button: str, **kwargs):
    return client.post_form(f"{BOOK}/{appointment_id}/{button}", {}, **kwargs)


def test_status_buttons_move_an_appointment_through_its_day(app, client, auth, clinic_a, schedule):
    started = add_appointment(app, schedule, utcnow().replace(microsecond=0) - timedelta(hours=2))
    auth.login_as("receptionist", clinic_a)

    def status():
        return _appointment(app, schedule, started).status

    assert _press(client, started, "check-in").status_code == 302
    assert status() == AppointmentStatus.CHECKED_IN
    assert _press(client, started, "undo-check-in").status_code == 302
    assert status() == AppointmentStatus.BOOKED
    _press(client, started, "check-in")
    assert _press(client, started, "complete").status_code == 302
    assert status() == AppointmentStatus.COMPLETED
    refused = _press(client, started, "check-in", follow_redirects=True)
    assert refused.status_code == 200
    assert "A completed appointment cannot be marked checked in." in refused.get_data(as_text=True)
    assert status() == AppointmentStatus.COMPLETED


def test_a_session_cannot_be_completed_before_its_start_time(app, client, auth, clinic_a, schedule):
    early = add_appointment(app, schedule, at(MONDAY, 10, 45))
    auth.login_as("receptionist", clinic_a)
    assert _press(client, early, "check-in").status_code == 302

    page = client.get(f"{BOOK}/{early}").get_data(as_text=True)
    assert f"{BOOK}/{early}/complete" not in page
    assert 'data-testid="complete-later"' in page and "Complete from 10:45" in page
    assert "can be completed from its start time, 10:45 on Mon 2 Jun 2031" in page

    refused = _press(client, early, "complete", follow_redirects=True)
    assert refused.status_code == 200
    assert (
        "This session has not started yet: it can be completed from 10:45 on Mon 2 Jun 2031, "
        "its start time." in refused.get_data(as_text=True)
    )
    assert _appointment(app, schedule, early).status == AppointmentStatus.CHECKED_IN
    assert _appointment(app, schedule, early).completed_at is None


def test_no_show_only_after_the_start_and_it_can_be_undone(app, client, auth, clinic_a, schedule):
    future = add_appointment(app, schedule, at(MONDAY, 10))
    past = add_appointment(app, schedule, utcnow().replace(microsecond=0) - timedelta(hours=1))
    auth.login_as("receptionist", clinic_a)

    early = _press(client, future, "no-show", follow_redirects=True)
    assert "only be a no-show once its start time has passed" in early.get_data(as_text=True)
    assert _appointment(app, schedule, future).status == AppointmentStatus.BOOKED

    assert _press(client, past, "no-show").status_code == 302
    assert _appointment(app, schedule, past).status == AppointmentStatus.NO_SHOW
    assert _press(client, past, "undo-no-show").status_code == 302
    assert _appointment(app, schedule, past).status == AppointmentStatus.BOOKED


def test_the_check_in_button_returns_to_the_day_sheet(app, client, auth, clinic_a, schedule):
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    auth.login_as("receptionist", clinic_a)
    sheet = client.get(f"{BOOK}/?date=2031-06-02").get_data(as_text=True)
    assert f"{BOOK}/{appointment_id}/check-in" in sheet
    response = client.post_form(
        f"{BOOK}/{appointment_id}/check-in", {"next": f"{BOOK}/?date=2031-06-02"}
    )
    assert response.location == f"{BOOK}/?date=2031-06-02"
    elsewhere = client.post_form(
        f"{BOOK}/{appointment_id}/undo-check-in", {"next": "https://evil.example/"}
    )
    assert elsewhere.location == f"{BOOK}/{appointment_id}"


# Who may do what ---------------------------------------------------------------------------------


def test_a_therapist_checks_in_their_own_appointment_but_not_anothers(
    app, client, auth, clinic_a, schedule
):
    _link_login(app, schedule, clinic_a)
    other = _add_therapist(app, schedule, "Olga Other")
    mine = add_appointment(app, schedule, at(MONDAY, 10))
    theirs = _query(
        app,
        schedule,
        lambda: _insert_appointment(schedule, other, at(MONDAY, 10)),
    )
    auth.login_as("therapist", clinic_a)

    sheet = client.get(f"{BOOK}/?date=2031-06-02").get_data(as_text=True)
    assert f"/{mine}/check-in" in sheet
    assert f"/{theirs}/check-in" not in sheet
    assert "New appointment" not in sheet
    assert "Cancel appointment" not in client.get(f"{BOOK}/{mine}").get_data(as_text=True)

    assert _press(client, mine, "check-in").status_code == 302
    assert _appointment(app, schedule, mine).status == AppointmentStatus.CHECKED_IN
    assert _press(client, theirs, "check-in").status_code == 403
    assert _press(client, theirs, "no-show").status_code == 403
    assert _appointment(app, schedule, theirs).status == AppointmentStatus.BOOKED


def _insert_appointment(schedule, therapist_id, starts_at, minutes=60, buffer=15) -> object:
    appointment = Appointment(
        client_id=schedule.client_id,
        therapist_id=therapist_id,
        service_id=schedule.service_id,
        location_id=schedule.location_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        blocked_until=starts_at + timedelta(minutes=minutes + buffer),
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment.id


def test_a_therapist_cannot_book_for_others_cancel_or_move(app, client, auth, clinic_a, schedule):
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    other = _add_therapist(app, schedule, "Olu Other")
    _link_login(app, schedule, clinic_a)
    auth.login_as("therapist", clinic_a)
    assert client.get(f"{BOOK}/new").status_code == 200  # their own calendar only
    theirs = _slot(schedule, at(MONDAY, 12), other)
    existing = str(schedule.client_id)
    assert _book(client, schedule, at(MONDAY, 12), slot=theirs, client=existing).status_code == 403
    assert _book(client, schedule, at(MONDAY, 12)).status_code == 400  # the desk adds clients
    assert client.post_form(f"{BOOK}/{appointment_id}/cancel", {}).status_code == 403
    assert client.get(f"{BOOK}/{appointment_id}/reschedule").status_code == 403
    assert _appointment(app, schedule, appointment_id).status == AppointmentStatus.BOOKED
    assert _count(app, schedule, Appointment) == 1


def test_a_therapist_sees_their_own_week(app, client, auth, clinic_a, schedule):
    _link_login(app, schedule, clinic_a)
    add_appointment(app, schedule, at(MONDAY, 10))
    add_appointment(app, schedule, at(WEDNESDAY, 15))
    add_time_off(app, schedule, at(TUESDAY, 9), at(TUESDAY, 13))
    auth.login_as("therapist", clinic_a)
    page = client.get(f"{BOOK}/mine", query_string={"date": "2031-06-02"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"09:00{DASH}17:00 at Harbour St" in text
    assert 'data-starts="10:00"' in text
    assert f"15:00{DASH}16:00 Ada Runner" in text  # Wednesday, among the next days
    assert f"Holiday 09:00{DASH}13:00" in text
    assert text.count('data-testid="upcoming-day"') == 6


def test_whole_days_off_read_all_day_on_my_schedule(app, client, auth, clinic_a, schedule):
    _link_login(app, schedule, clinic_a)
    # Off from Wednesday 00:00 to Friday 00:00, then a long weekend from Friday afternoon.
    add_time_off(app, schedule, at(WEDNESDAY, 0), at(WEDNESDAY + timedelta(days=2), 0))
    friday = MONDAY + timedelta(days=4)
    add_time_off(app, schedule, at(friday, 13), at(friday + timedelta(days=3), 11))
    auth.login_as("therapist", clinic_a)
    text = client.get(f"{BOOK}/mine", query_string={"date": "2031-06-02"}).get_data(as_text=True)
    badges = re.findall(r'data-testid="time-off">([^<]*)<', text)
    assert badges == [
        "Holiday all day",
        "Holiday all day",
        "Holiday from 13:00",
        "Holiday all day",
        "Holiday all day",
    ]
    assert f"00:00{DASH}00:00" not in text


def test_a_member_without_a_therapist_profile_gets_an_explanation(client, auth, clinic_a):
    auth.login_as("receptionist", clinic_a)
    page = client.get(f"{BOOK}/mine")
    assert page.status_code == 200
    assert "not linked to a therapist profile" in page.get_data(as_text=True)


# Cost of the pages -------------------------------------------------------------------------------


def _fill(app, schedule, day: date, therapists: int, each: int, tag: str) -> int:
    """Book `each` back-to-back appointments for each of `therapists` new therapists on `day`,
    every one with its own client and each therapist with a service of their own."""

    def create():
        rows = []
        for n in range(therapists):
            therapist = Therapist(
                display_name=f"{tag} therapist {n:02d}",
                calendar_colour=CALENDAR_COLOURS[n % len(CALENDAR_COLOURS)],
            )
            service = Service(name=f"{tag} service {n:02d}", category="rehab", duration_minutes=30)
            db.session.add_all([therapist, service])
            db.session.flush()
            db.session.add(
                Shift(
                    therapist_id=therapist.id,
                    location_id=schedule.location_id,
                    weekday=day.weekday(),
                    start_time=time(8),
                    end_time=time(18),
                    valid_from=date(2020, 1, 6),
                )
            )
            for k in range(each):
                person = Client(first_name=f"Client {tag}{n}-{k}", last_name="Bulk", phone="0700")
                db.session.add(person)
                db.session.flush()
                start = at(day, 8) + timedelta(minutes=40 * k)
                rows.append(
                    Appointment(
                        client_id=person.id,
                        therapist_id=therapist.id,
                        service_id=service.id,
                        location_id=schedule.location_id,
                        starts_at=start,
                        ends_at=start + timedelta(minutes=30),
                        blocked_until=start + timedelta(minutes=40),
                        status=list(AppointmentStatus)[(n + k) % len(AppointmentStatus)],
                        late_cancellation=(n + k) % 2 == 0,
                    )
                )
        db.session.add_all(rows)
        db.session.commit()
        return len(rows)

    return _query(app, schedule, create)


def test_the_day_sheet_costs_the_same_queries_for_5_appointments_as_for_500(
    app, client, auth, clinic_a, schedule, count_queries
):
    auth.login_as("receptionist", clinic_a)
    url = f"{BOOK}/?date={WEDNESDAY.isoformat()}"
    assert _fill(app, schedule, WEDNESDAY, therapists=1, each=5, tag="few") == 5
    few, response = count_queries(lambda: client.get(url))
    assert response.status_code == 200
    assert _fill(app, schedule, WEDNESDAY, therapists=45, each=11, tag="many") == 495
    many, response = count_queries(lambda: client.get(url))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    live = _query(
        app,
        schedule,
        lambda: db.session.scalar(
            select(func.count())
            .select_from(Appointment)
            .where(Appointment.status != AppointmentStatus.CANCELLED)
        ),
    )
    assert text.count('data-testid="appointment"') == live  # the cancelled are listed below
    assert text.count("Late cancellation") > 0
    assert text.count('data-testid="therapist-column"') == 47
    assert many == few, f"{few} statements for 5 appointments, {many} for 500"


def test_my_schedule_costs_the_same_queries_for_5_appointments_as_for_500(
    app, client, auth, clinic_a, schedule, count_queries
):
    _link_login(app, schedule, clinic_a)
    auth.login_as("therapist", clinic_a)
    url = f"{BOOK}/mine?date={MONDAY.isoformat()}"

    def fill(count: int, tag: str):
        def create():
            for k in range(count):
                person = Client(first_name=f"{tag} {k}", last_name="Bulk", email=f"{tag}{k}@x.test")
                service = Service(name=f"{tag} service {k}", category="rehab", duration_minutes=10)
                db.session.add_all([person, service])
                db.session.flush()
                day = MONDAY + timedelta(days=k % 7)
                start = at(day, 6) + timedelta(minutes=10 * (k // 7) + (5 if tag == "many" else 0))
                db.session.add(
                    Appointment(
                        client_id=person.id,
                        therapist_id=schedule.therapist_id,
                        service_id=service.id,
                        location_id=schedule.location_id,
                        starts_at=start,
                        ends_at=start + timedelta(minutes=5),
                        blocked_until=start + timedelta(minutes=5),
                    )
                )
            db.session.commit()

        _query(app, schedule, create)

    fill(5, "few")
    few, response = count_queries(lambda: client.get(url))
    assert response.status_code == 200
    fill(495, "many")
    many, response = count_queries(lambda: client.get(url))
    assert response.status_code == 200
    assert "many 494" in response.get_data(as_text=True)
    assert many == few, f"{few} statements for 5 appointments, {many} for 500"


def test_the_day_sheet_shades_buffer_time_off_and_hours_off(app, client, auth, clinic_a, schedule):
    add_appointment(app, schedule, at(MONDAY, 10))
    add_time_off(app, schedule, at(MONDAY, 14), at(MONDAY, 15))
    auth.login_as("owner", clinic_a)
    sheet = client.get(f"{BOOK}/?date=2031-06-02").get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-time="(\d\d:\d\d)"[^>]*>(.*?)</tr>', sheet, re.S))
    assert (min(rows), max(rows)) == ("09:00", "16:45")
    assert 'rowspan="4"' in rows["10:00"]
    assert "slot-buffer" in rows["11:00"]
    assert "slot-free" in rows["11:15"]
    assert "slot-away" in rows["14:00"] and "slot-away" in rows["14:45"]
    assert "cal-teal" in sheet
    quiet = client.get(f"{BOOK}/?date=2031-06-07").get_data(as_text=True)  # Saturday
    assert "Nobody is on the roster" in quiet
