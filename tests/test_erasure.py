"""Erasure on request: refused (with the reason and the date) while the clinic must keep the
records; afterwards the identity and the clinical content go, the accounts stay."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from clinic_saas import display, tenancy
from clinic_saas.clinic_time import add_months, today_in
from clinic_saas.extensions import db
from clinic_saas.models import (
    ERASED_NAME,
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Client,
    ClientMembership,
    ClientMembershipStatus,
    Clinic,
    FlagAcknowledgement,
    IntakeLink,
    IntakeResponse,
    NoteAmendment,
    PackageSale,
    Role,
    TreatmentNote,
)
from clinic_saas.models.base import utcnow
from clinic_saas.records.erasure import (
    IDENTITY_FIELDS,
    ErasureRefused,
    erasable_on,
    erase,
    retention,
)

from .factories import add_appointment, add_intake, build_menu, build_schedule
from .test_export import add_note

NINE_YEARS_AGO = utcnow().replace(microsecond=0) - timedelta(days=9 * 366)
TWO_YEARS_AGO = utcnow().replace(microsecond=0) - timedelta(days=2 * 365)


def _bound(app, clinic_fixture):
    """(app context, clinic) for reading and writing one clinic's rows in a test."""
    context = app.app_context()
    context.push()
    clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
    return context, clinic


def _history(app, clinic_fixture, when: datetime, *, child: bool = False):
    """Ada: a completed appointment with a note, an intake, a package sale and a cancelled
    membership, all dated `when`; a link from the intake; optionally a child linked to her."""
    schedule = build_schedule(app, clinic_fixture)
    build_menu(app, schedule, today=when.date())
    appointment_id = add_appointment(app, schedule, when)
    response_id = add_intake(app, schedule, codes=("fever",), signed_at=when - timedelta(days=1))
    add_note(app, schedule, appointment_id, clinic_fixture, at=when + timedelta(hours=2))
    context, clinic = _bound(app, clinic_fixture)
    try:
        with tenancy.bound_to(clinic):
            ada = db.session.get(Client, (clinic.id, schedule.client_id))
            ada.phone = "07700 900123"
            ada.date_of_birth = date(1980, 1, 2)
            ada.address = "1 Fell Lane, Keswick"
            ada.emergency_contact_name = "Bob Runner"
            ada.emergency_contact_phone = "07700 900999"
            ada.gp_name, ada.gp_practice = "Dr Patel", "Keswick Health Centre"
            ada.sport = "Fell running"
            ada.marketing_consent, ada.marketing_consent_at = True, when
            appointment = db.session.get(Appointment, (clinic.id, appointment_id))
            appointment.status = AppointmentStatus.COMPLETED
            appointment.price_minor = 6000
            appointment.note = "Prefers the ground-floor room, knee surgery 2019"
            membership = db.session.scalars(select(ClientMembership)).one()
            membership.status = ClientMembershipStatus.CANCELLED
            membership.cancelled_on = when.date()
            link = IntakeLink(
                client_id=ada.id,
                channel="email",
                sent_to=ada.email,
                secret_hash="0" * 64,
                created_at=when - timedelta(days=3),
                expires_at=when + timedelta(days=4),
                used_at=when - timedelta(days=1),
            )
            db.session.add(link)
            db.session.flush()
            db.session.add(
                FlagAcknowledgement(
                    appointment_id=appointment_id,
                    response_id=response_id,
                    membership_id=clinic_fixture.member_ids[Role.THERAPIST],
                    acknowledged_at=when,
                )
            )
            if child:
                db.session.add(
                    Client(
                        first_name="Tim",
                        last_name="Runner",
                        guardian_id=ada.id,
                        date_of_birth=date(2015, 6, 1),
                    )
                )
            db.session.commit()
    finally:
        context.pop()
    return schedule


def _counts(app, clinic_fixture) -> dict[str, int]:
    context, clinic = _bound(app, clinic_fixture)
    try:
        with tenancy.bound_to(clinic):
            return {
                model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (
                    Appointment,
                    PackageSale,
                    ClientMembership,
                    IntakeResponse,
                    IntakeLink,
                    FlagAcknowledgement,
                    TreatmentNote,
                    NoteAmendment,
                )
            }
    finally:
        db.session.remove()
        context.pop()


def _client(app, clinic_fixture, client_id) -> Client:
    context, clinic = _bound(app, clinic_fixture)
    try:
        with tenancy.bound_to(clinic):
            row = db.session.get(Client, (clinic.id, client_id))
            db.session.expunge(row)
            return row
    finally:
        db.session.remove()
        context.pop()


def _erase_url(schedule) -> str:
    return f"/c/northside/clients/{schedule.client_id}/erase"


def test_erasure_is_refused_while_the_records_must_be_kept(app, client, auth, clinic_a):
    schedule = _history(app, clinic_a, TWO_YEARS_AGO)
    before = _counts(app, clinic_a)
    # The last entry is the note, signed two hours after the appointment began.
    kept_until = add_months(_local(TWO_YEARS_AGO + timedelta(hours=2)), 8 * 12)
    auth.login_as(Role.OWNER, clinic_a)

    page = client.get(_erase_url(schedule))
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert (
        f"Records must be kept until {display.day(kept_until)}: 8 years after the last entry"
        in (text)
    )
    assert "Erasure is possible from " + display.day(kept_until) in text
    assert 'data-testid="erase-form"' not in text

    response = client.post_form(_erase_url(schedule), {"confirm_name": "Ada Runner"})
    assert response.status_code == 409
    assert f"Records must be kept until {display.day(kept_until)}" in html.unescape(
        response.get_data(as_text=True)
    )
    assert _counts(app, clinic_a) == before
    ada = _client(app, clinic_a, schedule.client_id)
    assert (ada.full_name, ada.email, ada.erased_at) == ("Ada Runner", "ada@example.com", None)


def _local(moment: datetime) -> date:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Europe/London")).date()


def test_erasure_after_retention_removes_identity_and_clinical_content(app, client, auth, clinic_a):
    schedule = _history(app, clinic_a, NINE_YEARS_AGO, child=True)
    before = _counts(app, clinic_a)
    assert before["IntakeResponse"] == before["TreatmentNote"] == before["NoteAmendment"] == 1
    auth.login_as(Role.OWNER, clinic_a)

    page = client.get(_erase_url(schedule))
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert 'data-testid="erase-form"' in text
    assert "1 appointment: date, service, therapist, status and price" in text

    response = client.post_form(_erase_url(schedule), {"confirm_name": "  ada   RUNNER "})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/c/northside/clients/{schedule.client_id}")

    ada = _client(app, clinic_a, schedule.client_id)
    assert ada.full_name == ERASED_NAME
    assert ada.erased_at is not None
    for field in (*IDENTITY_FIELDS, "guardian_id"):
        assert getattr(ada, field) is None, field
    assert ada.marketing_consent is False
    assert "ada" not in ada.search_text and "900123" not in ada.search_text

    after = _counts(app, clinic_a)
    assert after == before | {
        "IntakeResponse": 0,
        "IntakeLink": 0,
        "FlagAcknowledgement": 0,
        "TreatmentNote": 0,
        "NoteAmendment": 0,
    }
    assert after["Appointment"] == after["PackageSale"] == after["ClientMembership"] == 1

    context, clinic = _bound(app, clinic_a)
    try:
        with tenancy.bound_to(clinic):
            appointment = db.session.scalars(select(Appointment)).one()
            assert appointment.client_id == schedule.client_id
            assert appointment.price_minor == 6000
            assert appointment.status == AppointmentStatus.COMPLETED
            assert appointment.note is None
            tim = db.session.scalars(select(Client).where(Client.first_name == "Tim")).one()
            assert tim.guardian_id is None
            event = db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "client.erase")
            ).one()
            assert event.client_id == schedule.client_id
            assert event.detail["intakes"] == 1
            assert event.detail["notes"] == 1
            assert event.detail["amendments"] == 1
            assert event.detail["children_unlinked"] == 1
    finally:
        db.session.remove()
        context.pop()

    # The client's page now shows the erased record, and a second erasure is refused clearly.
    shown = client.get(f"/c/northside/clients/{schedule.client_id}")
    assert shown.status_code == 200
    assert ERASED_NAME in shown.get_data(as_text=True)
    again = client.get(_erase_url(schedule))
    assert "already erased on" in html.unescape(again.get_data(as_text=True))
    refused = client.post_form(_erase_url(schedule), {"confirm_name": ERASED_NAME})
    assert refused.status_code == 409
    assert "already erased on" in html.unescape(refused.get_data(as_text=True))


def test_erasure_needs_the_clients_name_typed_out(app, client, auth, clinic_a):
    schedule = _history(app, clinic_a, NINE_YEARS_AGO)
    before = _counts(app, clinic_a)
    auth.login_as(Role.OWNER, clinic_a)
    for typed in ("", "Ada Rnuner"):
        response = client.post_form(_erase_url(schedule), {"confirm_name": typed})
        assert response.status_code == 400
        assert 'data-testid="error-confirm_name"' in response.get_data(as_text=True)
    assert _counts(app, clinic_a) == before
    assert _client(app, clinic_a, schedule.client_id).erased_at is None


def test_erasure_is_refused_while_an_appointment_is_booked(app, client, auth, clinic_a):
    schedule = _history(app, clinic_a, NINE_YEARS_AGO)
    upcoming = datetime.combine(
        datetime.now(UTC).date() + timedelta(days=14), datetime.min.time(), tzinfo=UTC
    ) + timedelta(hours=10)
    add_appointment(app, schedule, upcoming)
    before = _counts(app, clinic_a)
    auth.login_as(Role.OWNER, clinic_a)
    response = client.post_form(_erase_url(schedule), {"confirm_name": "Ada Runner"})
    assert response.status_code == 409
    assert f"appointment booked on {display.day(_local(upcoming))}: cancel it first" in (
        html.unescape(response.get_data(as_text=True))
    )
    assert _counts(app, clinic_a) == before


@pytest.mark.parametrize("role", [Role.MANAGER, Role.RECEPTIONIST, Role.THERAPIST])
def test_only_the_owner_may_erase(app, client, auth, clinic_a, role):
    schedule = _history(app, clinic_a, NINE_YEARS_AGO)
    before = _counts(app, clinic_a)
    auth.login_as(role, clinic_a)
    assert client.get(_erase_url(schedule)).status_code == 403
    response = client.post_form(_erase_url(schedule), {"confirm_name": "Ada Runner"})
    assert response.status_code == 403
    assert _counts(app, clinic_a) == before
    assert _client(app, clinic_a, schedule.client_id).erased_at is None


# The retention rule itself ------------------------------------------------------------------------


def test_retention_runs_from_the_last_entry_by_the_clinics_period(app, clinic_a):
    schedule = build_schedule(app, clinic_a)
    add_appointment(app, schedule, datetime(2020, 3, 3, 10, tzinfo=UTC))
    add_intake(app, schedule, signed_at=datetime(2021, 7, 9, 22, 30, tzinfo=UTC))  # 23:30 BST
    context, clinic = _bound(app, clinic_a)
    try:
        with tenancy.bound_to(clinic):
            ada = db.session.get(Client, (clinic.id, schedule.client_id))
            kept = retention(ada, clinic=clinic)
            assert (kept.last_entry, kept.last_entry_kind) == (date(2021, 7, 9), "intake")
            assert erasable_on(ada, date(2030, 1, 1), clinic=clinic) == date(2029, 7, 9)
            clinic.retention_years = 10
            assert erasable_on(ada, date(2030, 1, 1), clinic=clinic) == date(2031, 7, 9)
            with pytest.raises(ErasureRefused, match="kept until 9 Jul 2031: 10 years after"):
                erase(ada, date(2031, 7, 8), clinic=clinic)
            assert ada.erased_at is None
            erase(ada, date(2031, 7, 9), clinic=clinic)
            assert ada.full_name == ERASED_NAME
            db.session.rollback()
    finally:
        db.session.remove()
        context.pop()


def test_a_childs_records_are_kept_until_their_25th_birthday(app, clinic_a):
    schedule = build_schedule(app, clinic_a)
    add_appointment(app, schedule, datetime(2020, 3, 3, 10, tzinfo=UTC))
    context, clinic = _bound(app, clinic_a)
    try:
        with tenancy.bound_to(clinic):
            ada = db.session.get(Client, (clinic.id, schedule.client_id))
            ada.date_of_birth = date(2010, 5, 17)  # 9 at the last entry
            kept = retention(ada, clinic=clinic)
            assert kept.erasable_on == date(2035, 5, 17)  # later than 3 Mar 2028
            assert kept.child_rule
            assert "a child's records are kept until their 25th birthday" in kept.reason
            ada.date_of_birth = date(2001, 5, 17)  # 18 at the last entry: an adult
            assert retention(ada, clinic=clinic).erasable_on == date(2028, 3, 3)
            ada.date_of_birth = date(2002, 5, 17)  # 17 then, but 25 before 8 years have passed
            assert retention(ada, clinic=clinic).erasable_on == date(2028, 3, 3)
            db.session.rollback()
    finally:
        db.session.remove()
        context.pop()


def test_a_client_with_no_records_can_be_erased_at_once(app, clinic_a):
    schedule = build_schedule(app, clinic_a)
    context, clinic = _bound(app, clinic_a)
    try:
        with tenancy.bound_to(clinic):
            ada = db.session.get(Client, (clinic.id, schedule.client_id))
            today = today_in(clinic)
            assert retention(ada, clinic=clinic).erasable_on is None
            assert erasable_on(ada, today, clinic=clinic) == today
            erased = erase(ada, today, clinic=clinic)
            assert erased.intakes == erased.notes == 0
            assert ada.erased_at is not None
            db.session.rollback()
    finally:
        db.session.remove()
        context.pop()
