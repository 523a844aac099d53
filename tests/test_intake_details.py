"""The intake asks for the client's own details, prefilled from the record; what the client
confirms updates the record, and the record's history says so."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.models import AuditEvent, Client, IntakeLink
from clinic_saas.models.base import utcnow

from .factories import build_schedule
from .test_intake_links import good_form, make_link, responses, with_clinic

DETAILS = {
    "d-date_of_birth": "1988-04-21",
    "d-address": "4 Canal Yard\r\nManchester M4 6DE",
    "d-emergency_contact_name": "Sam Runner",
    "d-emergency_contact_phone": "07700 900456",
    "d-gp_name": "Dr Patel",
    "d-gp_practice": "Ancoats Medical Centre",
}


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


@pytest.fixture
def token(app, schedule):
    return make_link(app, schedule.clinic_id, schedule.client_id)


def _record(app, schedule) -> Client:
    def read():
        client = tenancy.find(Client, schedule.client_id)
        db_values = {
            name: getattr(client, name)
            for name in (
                "date_of_birth",
                "address",
                "emergency_contact_name",
                "emergency_contact_phone",
                "gp_name",
                "gp_practice",
                "first_name",
                "email",
            )
        }
        return db_values

    return with_clinic(app, schedule.clinic_id, read)


def _set(app, schedule, **values) -> None:
    from clinic_saas.extensions import db

    def change():
        client = tenancy.find(Client, schedule.client_id)
        for name, value in values.items():
            setattr(client, name, value)
        db.session.commit()

    with_clinic(app, schedule.clinic_id, change)


def _detail_events(app, schedule) -> list[AuditEvent]:
    from clinic_saas.extensions import db

    return with_clinic(
        app,
        schedule.clinic_id,
        lambda: list(
            db.session.scalars(select(AuditEvent).where(AuditEvent.action == "client.details"))
        ),
    )


def test_the_form_asks_for_the_details_prefilled_from_the_record(app, client, schedule, token):
    _set(
        app,
        schedule,
        date_of_birth=date(1990, 5, 1),
        address="12 Harbour Street\nManchester",
        gp_practice="Harbour Surgery",
        emergency_contact_name="Sam Runner",
        emergency_contact_phone="+447700900456",
    )
    html = client.get(f"/intake/{token}").get_data(as_text=True)
    assert 'data-testid="intake-details"' in html
    assert 'name="d-date_of_birth" type="date" value="1990-05-01"' in html
    assert ">12 Harbour Street\nManchester</textarea>" in html
    assert 'name="d-gp_practice" type="text" value="Harbour Surgery"' in html
    assert 'name="d-emergency_contact_phone" type="tel" value="07700 900456"' in html
    assert 'name="d-gp_name" type="text" value=""' in html


def test_confirmed_details_update_the_record_and_its_history(
    app, client, auth, clinic_a, schedule, token
):
    signed = client.post_form(f"/intake/{token}", good_form(**DETAILS))
    assert signed.status_code == 200
    record = _record(app, schedule)
    assert record["date_of_birth"] == date(1988, 4, 21)
    assert record["address"] == "4 Canal Yard\nManchester M4 6DE"
    assert record["emergency_contact_name"] == "Sam Runner"
    assert record["emergency_contact_phone"] == "+447700900456"  # stored as E.164
    assert record["gp_name"] == "Dr Patel"
    assert record["gp_practice"] == "Ancoats Medical Centre"
    (event,) = _detail_events(app, schedule)
    assert event.client_id == schedule.client_id
    assert event.actor == "Client (intake link)"
    assert event.detail == {"fields": [name.removeprefix("d-") for name in DETAILS]}
    assert "Manchester" not in str(event.detail)  # names of fields, never their values

    auth.login_as("owner", clinic_a)
    page = client.get(f"/c/{clinic_a.slug}/clients/{schedule.client_id}").get_data(as_text=True)
    today = utcnow().date()
    assert (
        f"Updated by the client in their intake on {today.day} {today:%b %Y}: date of birth, "
        "address, emergency contact&#39;s name, emergency contact&#39;s phone, GP&#39;s name "
        "and GP practice." in page
    )
    log = client.get(f"/c/{clinic_a.slug}/audit?client_id={schedule.client_id}")
    text = log.get_data(as_text=True)
    assert "Confirmed their details in an intake" in text
    assert "fields: date of birth, address, emergency contact name" in text


def test_a_box_left_empty_keeps_the_record_and_unchanged_details_write_no_history(
    app, client, schedule, token
):
    _set(app, schedule, address="1 Old Road", gp_name="Dr Old", date_of_birth=date(1990, 5, 1))
    form = good_form(**{"d-address": "", "d-gp_name": "  Dr   Old ", "d-date_of_birth": ""})
    assert client.post_form(f"/intake/{token}", form).status_code == 200
    record = _record(app, schedule)
    assert record["address"] == "1 Old Road"
    assert record["gp_name"] == "Dr Old"
    assert record["date_of_birth"] == date(1990, 5, 1)
    assert _detail_events(app, schedule) == []


def test_only_the_changed_details_are_named(app, client, schedule, token):
    _set(app, schedule, address="1 Old Road", gp_name="Dr Old")
    form = good_form(**{"d-address": "1 Old Road", "d-gp_name": "Dr New"})
    assert client.post_form(f"/intake/{token}", form).status_code == 200
    (event,) = _detail_events(app, schedule)
    assert event.detail == {"fields": ["gp_name"]}
    assert _record(app, schedule)["gp_name"] == "Dr New"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"d-emergency_contact_phone": "1" * 40}, "emergency_contact_phone", "phone number"),
        ({"d-date_of_birth": (utcnow().date() + timedelta(days=3)).isoformat()}, "date_of_birth",
         "cannot be in the future"),
        ({"d-date_of_birth": "21/04/1988"}, "date_of_birth", "as a date"),
        ({"d-emergency_contact_name": "Sam Runner", "d-emergency_contact_phone": ""},
         "emergency_contact_phone", "Give a phone number for this person too."),
        ({"d-emergency_contact_name": "", "d-emergency_contact_phone": "07700 900456"},
         "emergency_contact_name", "Give this person's name too."),
        ({"d-gp_practice": "x" * 201}, "gp_practice", "at most 200 characters"),
    ],
)  # fmt: skip
def test_bad_details_are_refused_with_400_and_nothing_is_stored(
    app, client, schedule, token, changes, field, message
):
    form = good_form(**(DETAILS | changes))
    refused = client.post_form(f"/intake/{token}", form)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert f'data-testid="error-{field}"' in html
    assert message.replace("'", "&#39;") in html
    assert 'value="Dr Patel"' in html  # what was typed is shown again
    record = _record(app, schedule)
    assert record["gp_name"] is None and record["address"] is None
    assert responses(app, schedule.clinic_id) == []
    assert _detail_events(app, schedule) == []
    assert with_clinic(app, schedule.clinic_id, _open_links) == 1  # the link still works


def _open_links() -> int:
    from clinic_saas.extensions import db

    return len(db.session.scalars(select(IntakeLink).where(IntakeLink.used_at.is_(None))).all())


def test_a_refused_signature_changes_nothing_on_the_record(app, client, schedule, token):
    form = good_form(**DETAILS, signed_name="Mickey Mouse")
    refused = client.post_form(f"/intake/{token}", form)
    assert refused.status_code == 400
    assert _record(app, schedule)["address"] is None
    assert _detail_events(app, schedule) == []


def test_a_date_of_birth_that_makes_the_client_a_minor_asks_a_parent_to_sign(
    app, client, schedule, token
):
    twelve = (utcnow().date() - timedelta(days=365 * 12)).isoformat()
    refused = client.post_form(f"/intake/{token}", good_form(**{"d-date_of_birth": twelve}))
    assert refused.status_code == 400
    assert "Ada is under 18: a parent or guardian must sign" in refused.get_data(as_text=True)
    assert _record(app, schedule)["date_of_birth"] is None  # refused: the record is unchanged
