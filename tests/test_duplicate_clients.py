"""Adding a client who is already on file: the record on file is offered and used by default.

Phone numbers are stored in E.164 in the clinic's country, so "07700 900123" and "+447700900123"
are one number; the same email, phone, or name and date of birth is a possible duplicate.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.clients import ClientError, create_client, possible_duplicates, search_clients
from clinic_saas.extensions import db
from clinic_saas.models import Appointment, Client, Clinic, Role
from clinic_saas.scheduling.free_times import SlotChoice

from .factories import build_schedule

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2031, 6, 2)
NINE = datetime.combine(MONDAY, time(10), tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def northside(app, clinic_a):
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            yield clinic
        db.session.rollback()


def _in_clinic(app, clinic_fixture, fn):
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            result = fn()
            db.session.commit()
            return result


def _jamie(app, clinic_fixture):
    return _in_clinic(
        app,
        clinic_fixture,
        lambda: (
            create_client(
                "Jamie",
                "O'Brien",
                "jamie@example.com",
                "+447700900123",
                date_of_birth=date(1988, 3, 14),
            ).id
        ),
    )


def _phones(app, clinic_fixture) -> dict:
    return _in_clinic(
        app, clinic_fixture, lambda: dict(db.session.execute(select(Client.id, Client.phone)).all())
    )


def _ids(app, clinic_fixture) -> set:
    return _in_clinic(app, clinic_fixture, lambda: set(db.session.scalars(select(Client.id))))


def _booked_client_ids(app, clinic_fixture) -> list:
    return _in_clinic(
        app, clinic_fixture, lambda: list(db.session.scalars(select(Appointment.client_id)))
    )


# The domain ----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["07700 900123", "+44 7700 900123", "(07700) 900-123"])
def test_one_number_typed_in_any_format_is_stored_once_in_e164(northside, typed):
    assert create_client("Jamie", "", None, typed).phone == "+447700900123"


@pytest.mark.parametrize("nonsense", ["1" * 40, "+44 1234567890123456", "+999 7700 900123"])
def test_a_number_that_cannot_be_a_phone_number_is_refused(northside, nonsense):
    with pytest.raises(ClientError) as refused:
        create_client("Jamie", "", None, nonsense)
    assert refused.value.field == "phone"


def test_search_finds_a_number_in_either_spelling(northside):
    create_client("Jamie", "O'Brien", None, "+447700900123")
    create_client("Kim", "Other", None, "07700 900999")
    for q in ("07700 900123", "+447700900123", "+44 7700 900123", "07700900123"):
        assert [c.full_name for c in search_clients(q)] == ["Jamie O'Brien"], q


def test_possible_duplicates_by_email_phone_or_name_and_birthday(northside):
    jamie = create_client(
        "Jamie", "O'Brien", "jamie@example.com", "07700 900123", date_of_birth=date(1988, 3, 14)
    )
    create_client("Jamie", "O'Brien", "other@example.com", None)  # same name, no birthday
    assert possible_duplicates(northside, email="JAMIE@example.com ") == [jamie]
    assert possible_duplicates(northside, phone="+44 7700 900123") == [jamie]
    assert possible_duplicates(
        northside, first_name="jamie", last_name="o'brien", date_of_birth=date(1988, 3, 14)
    ) == [jamie]
    # A name alone, another birthday, or input that is not an email or a number: no match.
    assert possible_duplicates(northside, first_name="Kim", last_name="O'Brien") == []
    assert (
        possible_duplicates(
            northside, first_name="Jamie", last_name="O'Brien", date_of_birth=date(1990, 1, 1)
        )
        == []
    )
    assert possible_duplicates(northside, email="nonsense", phone="call me") == []


# Booking -------------------------------------------------------------------------------------


def _book(http, schedule, **fields):
    data = {
        "service": str(schedule.service_id),
        "slot": SlotChoice(schedule.therapist_id, schedule.location_id, NINE).value,
        "date": MONDAY.isoformat(),
        "client": "new",
        "first_name": "Jamie",
        "last_name": "O'Brien",
        "email": "",
        "phone": "07700 900123",
        "note": "",
    }
    data.update(fields)
    return http.post_form("/c/northside/appointments/new", data)


def test_booking_a_new_client_who_is_on_file_offers_the_record_and_stores_nothing(
    app, client, auth, clinic_a
):
    schedule = build_schedule(app, clinic_a)
    jamie_id = _jamie(app, clinic_a)
    before = _ids(app, clinic_a)
    auth.login_as(Role.RECEPTIONIST, clinic_a)

    offered = _book(client, schedule)
    assert offered.status_code == 200
    page = offered.get_data(as_text=True)
    assert 'data-testid="possible-duplicates"' in page
    assert "This looks like <strong>Jamie O&#39;Brien</strong>" in page
    assert "jamie@example.com · 07700 900123" in page
    assert f'value="{jamie_id}" checked' in page  # the record on file is the default
    assert "Create a new client anyway" in page
    assert _ids(app, clinic_a) == before
    assert _booked_client_ids(app, clinic_a) == []

    # Sent again as offered: the booking is for the record on file.
    booked = _book(client, schedule, client=str(jamie_id))
    assert booked.status_code == 302
    assert _ids(app, clinic_a) == before
    assert _booked_client_ids(app, clinic_a) == [jamie_id]


def test_a_second_record_for_the_same_person_takes_the_explicit_choice(app, client, auth, clinic_a):
    schedule = build_schedule(app, clinic_a)
    _jamie(app, clinic_a)
    before = _ids(app, clinic_a)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    booked = _book(client, schedule, client="new-anyway", phone="+44 7700 900123")
    assert booked.status_code == 302
    ((new_id, new_phone),) = [p for p in _phones(app, clinic_a).items() if p[0] not in before]
    assert new_phone == "+447700900123"
    assert _booked_client_ids(app, clinic_a) == [new_id]


def test_booking_a_client_with_a_nonsense_phone_number_is_a_form_error(app, client, auth, clinic_a):
    schedule = build_schedule(app, clinic_a)
    before = _ids(app, clinic_a)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    refused = _book(client, schedule, phone="1" * 40)
    assert refused.status_code == 400
    assert "Enter a phone number of digits" in refused.get_data(as_text=True)
    assert _ids(app, clinic_a) == before


# The clients page and the sales desk ---------------------------------------------------------

NEW_JAMIE = {
    "first_name": "Jamie",
    "last_name": "O'Brien",
    "date_of_birth": "",
    "email": "",
    "phone": "07700 900123",
}


def _clients_form(**fields) -> dict:
    return NEW_JAMIE | {"activity_level": ""} | fields


def test_the_clients_page_offers_the_record_on_file_and_adds_nothing(app, client, auth, clinic_a):
    jamie_id = _jamie(app, clinic_a)
    auth.login_as(Role.RECEPTIONIST, clinic_a)

    offered = client.post_form("/c/northside/clients/new", _clients_form())
    assert offered.status_code == 200
    page = offered.get_data(as_text=True)
    assert "This looks like <strong>Jamie O&#39;Brien</strong>" in page
    assert f'name="existing" id="existing-{jamie_id}" value="{jamie_id}" checked' in page
    assert _ids(app, clinic_a) == {jamie_id}

    used = client.post_form("/c/northside/clients/new", _clients_form(existing=str(jamie_id)))
    assert used.status_code == 302
    assert used.location.endswith(f"/c/northside/clients/{jamie_id}")
    assert _ids(app, clinic_a) == {jamie_id}

    # The same name and date of birth, with other contact details, is offered too.
    born = _clients_form(phone="", email="j.ob@example.com", date_of_birth="1988-03-14")
    assert "This looks like" in client.post_form("/c/northside/clients/new", born).get_data(
        as_text=True
    )
    assert _ids(app, clinic_a) == {jamie_id}

    anyway = client.post_form("/c/northside/clients/new", _clients_form(existing="new"))
    assert anyway.status_code == 302
    assert len(_ids(app, clinic_a)) == 2


def test_the_sales_desk_offers_the_record_on_file_and_keeps_its_one_time_key(
    app, client, auth, clinic_a
):
    jamie_id = _jamie(app, clinic_a)
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    key = "0b5b8f3e-8f44-4c55-9a3a-7f0c5a1d2e3f"
    form = {"first_name": "Jamie", "last_name": "O'Brien", "phone": "+447700900123"}

    offered = client.post_form("/c/northside/sales/clients/new", form | {"submission_key": key})
    assert offered.status_code == 200
    page = offered.get_data(as_text=True)
    assert "This looks like <strong>Jamie O&#39;Brien</strong>" in page
    assert key in page  # the same form, sent again with the choice, is not a repeat
    assert _ids(app, clinic_a) == {jamie_id}

    used = client.post_form(
        "/c/northside/sales/clients/new",
        form | {"submission_key": key, "existing": str(jamie_id)},
    )
    assert used.status_code == 302
    assert used.location.endswith(f"/c/northside/sales/clients/{jamie_id}")
    assert _ids(app, clinic_a) == {jamie_id}

    anyway = client.post_form(
        "/c/northside/sales/clients/new", form | {"submission_key": key, "existing": "new"}
    )
    assert anyway.status_code == 302
    assert len(_ids(app, clinic_a)) == 2
