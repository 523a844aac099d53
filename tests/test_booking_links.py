"""The core pages link to each other: appointment -> client -> intake and history; the client page
books (a new appointment for them, or their next visit); a therapist books their own next visit."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import Appointment, Clinic, Membership, Role, Therapist
from clinic_saas.scheduling import booking
from clinic_saas.scheduling.booking import NotYourCalendar

from .factories import add_appointment, build_schedule
from .test_appointments import BOOK, MONDAY, TUESDAY, _add_therapist, _link_login, _slot, at
from .test_booking import _load

CLIENTS = "/c/northside/clients"


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


def _hrefs(page, testid: str) -> list[str]:
    text = page.get_data(as_text=True)
    found = re.findall(rf'<a[^>]*href="([^"]+)"[^>]*data-testid="{testid}"', text)
    return [html.unescape(h) for h in found]


def _appointments(app, schedule) -> list[Appointment]:
    with app.app_context():
        tenancy.bind(db.session.get(Clinic, schedule.clinic_id))
        return db.session.scalars(select(Appointment).order_by(Appointment.starts_at)).all()


def test_the_appointment_page_links_to_the_client_their_intake_and_history(
    app, client, auth, clinic_a, schedule
):
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    auth.login_as("receptionist", clinic_a)
    page = client.get(f"{BOOK}/{appointment_id}")
    record = f"{CLIENTS}/{schedule.client_id}"
    assert _hrefs(page, "client-link") == [record]
    assert _hrefs(page, "intake-link") == [f"{record}#intake"]
    assert _hrefs(page, "history-link") == [f"{record}#history"]
    shown = client.get(record).get_data(as_text=True)
    assert 'id="intake"' in shown and 'id="history"' in shown


def test_the_client_page_books_an_appointment_prefilled_with_the_client(
    app, client, auth, clinic_a, schedule
):
    auth.login_as("receptionist", clinic_a)
    (book,) = _hrefs(client.get(f"{CLIENTS}/{schedule.client_id}"), "book-appointment")
    assert f"client={schedule.client_id}" in book
    find = client.get(book)
    assert "Booking for" in find.get_data(as_text=True)
    results = client.get(
        f"{BOOK}/new",
        query_string={
            "service": str(schedule.service_id),
            "date": MONDAY.isoformat(),
            "client": str(schedule.client_id),
        },
    )
    slot = _slot(schedule, at(MONDAY, 10))
    links = re.findall(r'href="([^"]*slot=[^"]*)"', results.get_data(as_text=True))
    chosen = next(html.unescape(h) for h in links if slot in h)
    assert f"client={schedule.client_id}" in chosen
    step_two = client.get(chosen).get_data(as_text=True)
    assert f'value="{schedule.client_id}" checked' in step_two  # Ada is chosen already
    done = client.post_form(
        f"{BOOK}/new",
        {
            "service": str(schedule.service_id),
            "slot": slot,
            "date": MONDAY.isoformat(),
            "client": str(schedule.client_id),
            "note": "",
        },
    )
    assert done.status_code == 302
    (booked,) = _appointments(app, schedule)
    assert booked.client_id == schedule.client_id


def test_the_client_page_books_the_next_visit_with_the_same_service_and_therapist(
    app, client, auth, clinic_a, schedule
):
    other = _add_therapist(app, schedule, "Olu Other")
    add_appointment(app, schedule, datetime(2020, 3, 2, 10, tzinfo=UTC))
    auth.login_as("receptionist", clinic_a)
    (link,) = _hrefs(client.get(f"{CLIENTS}/{schedule.client_id}"), "book-next-visit")
    assert f"service={schedule.service_id}" in link
    assert f"therapist={schedule.therapist_id}" in link
    assert f"client={schedule.client_id}" in link
    page = client.get(link)
    assert page.status_code == 200
    assert 'data-testid="results-heading"' in page.get_data(as_text=True)  # free times shown
    assert str(other) not in page.get_data(as_text=True).split("results-heading")[1]


def test_a_therapist_books_their_own_next_visit_from_the_appointment_page(
    app, client, auth, clinic_a, schedule
):
    other = _add_therapist(app, schedule, "Olu Other")
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    _link_login(app, schedule, clinic_a)
    auth.login_as("therapist", clinic_a)
    (link,) = _hrefs(client.get(f"{BOOK}/{appointment_id}"), "book-next-visit")
    assert f"therapist={schedule.therapist_id}" in link
    assert f"date={TUESDAY.isoformat()}" in link  # from the day after this visit
    page = client.get(link)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert _slot(schedule, at(TUESDAY, 10)) in text
    assert str(other) not in text  # another therapist is neither offered nor searched
    done = client.post_form(
        f"{BOOK}/new",
        {
            "service": str(schedule.service_id),
            "slot": _slot(schedule, at(TUESDAY, 10)),
            "date": TUESDAY.isoformat(),
            "client": str(schedule.client_id),
            "note": "",
        },
    )
    assert done.status_code == 302
    _first, second = _appointments(app, schedule)
    assert second.therapist_id == schedule.therapist_id
    assert second.client_id == schedule.client_id


def test_a_therapist_cannot_book_into_another_therapists_calendar(
    app, client, auth, clinic_a, schedule
):
    other = _add_therapist(app, schedule, "Olu Other")
    _link_login(app, schedule, clinic_a)
    auth.login_as("therapist", clinic_a)
    refused = client.post_form(
        f"{BOOK}/new",
        {
            "service": str(schedule.service_id),
            "slot": _slot(schedule, at(TUESDAY, 10), other),
            "date": TUESDAY.isoformat(),
            "client": str(schedule.client_id),
            "note": "",
        },
    )
    assert refused.status_code == 403
    assert "only into your own calendar" in refused.get_data(as_text=True)
    assert _appointments(app, schedule) == []
    # No "Book next visit" with another therapist's client on their appointment page.
    theirs = _hrefs(client.get(f"{CLIENTS}/{schedule.client_id}"), "book-next-visit")
    assert theirs == []


def test_a_member_with_no_calendar_of_their_own_may_not_book(client, auth, clinic_a, schedule):
    auth.login_as("therapist", clinic_a)  # not linked to a therapist profile
    assert client.get(f"{BOOK}/new").status_code == 403


def test_the_booking_domain_refuses_a_therapist_booking_for_another(app, clinic_a, schedule):
    with app.app_context():
        objects = _load(schedule)
        me = db.session.get(Membership, (schedule.clinic_id, clinic_a.member_ids[Role.THERAPIST]))
        arguments = dict(
            client=objects["client"],
            therapist=objects["therapist"],
            service=objects["service"],
            location=objects["location"],
            starts_at=datetime(2031, 3, 3, 10, tzinfo=UTC),
            booked_by=me,
        )
        with pytest.raises(NotYourCalendar, match="only into your own calendar") as refusal:
            booking.book(objects["clinic"], **arguments)
        assert refusal.value.status == 403
        therapist = db.session.get(Therapist, (schedule.clinic_id, schedule.therapist_id))
        therapist.membership_id = me.id
        db.session.flush()
        assert booking.book(objects["clinic"], **arguments).therapist_id == therapist.id
        desk = db.session.get(
            Membership, (schedule.clinic_id, clinic_a.member_ids[Role.RECEPTIONIST])
        )
        therapist.membership_id = None
        arguments.update(booked_by=desk, starts_at=datetime(2031, 3, 3, 12, tzinfo=UTC))
        assert booking.book(objects["clinic"], **arguments).therapist_id == therapist.id
        db.session.rollback()
