"""A client's full record on request: as JSON and as a printable document, audited, never for
receptionists or therapists."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.clinic_time import today_in
from clinic_saas.extensions import db
from clinic_saas.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Client,
    Clinic,
    IntakeResponse,
    NoteAmendment,
    NoteStatus,
    Role,
    TreatmentNote,
)
from clinic_saas.models.base import utcnow

from .factories import add_appointment, add_intake, build_menu, build_schedule

NOTE = {
    "subjective": "Tight left hamstring after the Quarrybank fell race",
    "pain_before": 6,
    "pain_after": 3,
    "objective": "Reduced hip flexion on the left",
    "gait": "",
    "assessment": "Hamstring overload",
    "regions": [{"view": "back", "region": "hamstrings", "side": "left"}],
    "techniques": [
        {"technique": "kneading", "region": "hamstrings", "minutes": 15, "purpose": "release"}
    ],
    "plan": "Eccentric loading",
    "next_visit": "",
    "referral": "",
}
AMENDMENT = "The right hamstring was treated as well."
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


def add_note(app, schedule, appointment_id, clinic_fixture, *, at=None, amendment=AMENDMENT):
    """A signed note (and one amendment) for an appointment of the schedule's client."""
    at = at or utcnow()
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            author = clinic_fixture.member_ids[Role.THERAPIST]
            note = TreatmentNote(
                appointment_id=appointment_id,
                client_id=schedule.client_id,
                author_id=author,
                content=NOTE,
                status=NoteStatus.SIGNED,
                created_at=at,
                updated_at=at,
                signed_at=at,
                signed_by_id=author,
            )
            db.session.add(note)
            db.session.flush()
            if amendment:
                db.session.add(
                    NoteAmendment(note_id=note.id, author_id=author, text=amendment, created_at=at)
                )
            db.session.commit()
            return note.id


@pytest.fixture
def record(app, clinic_a):
    """Ada Runner with a completed appointment, a package, a membership, an intake and a note."""
    schedule = build_schedule(app, clinic_a)
    build_menu(app, schedule, today=date(2031, 3, 3))
    appointment_id = add_appointment(app, schedule, datetime(2031, 3, 3, 10, tzinfo=UTC))
    add_intake(app, schedule, codes=("varicose_veins",), sites={"varicose_veins": "left calf"})
    add_note(app, schedule, appointment_id, clinic_a)
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            client = db.session.get(Client, (clinic.id, schedule.client_id))
            client.phone = "07700 900123"
            client.date_of_birth = date(1990, 5, 17)
            client.gp_name = "Dr Patel"
            client.sport = "Fell running"
            for appointment in db.session.scalars(
                select(Appointment).where(Appointment.client_id == client.id)
            ):
                appointment.status = AppointmentStatus.COMPLETED
                appointment.price_minor = 6000
            db.session.commit()
    return schedule


def _export_events(app, clinic_fixture) -> list[AuditEvent]:
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            return list(
                db.session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "client.export")
                ).all()
            )


def test_owner_downloads_the_full_record_as_json(app, client, auth, clinic_a, record):
    auth.login_as(Role.OWNER, clinic_a)
    response = client.get(f"/c/northside/clients/{record.client_id}/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    with app.app_context():
        today = today_in(db.session.get(Clinic, clinic_a.clinic_id))
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="ada-runner-{today.isoformat()}.json"'
    )
    data = json.loads(response.get_data(as_text=True))

    person = data["client"]
    assert (person["first_name"], person["last_name"], person["email"]) == (
        "Ada",
        "Runner",
        "ada@example.com",
    )
    assert person["date_of_birth"] == "1990-05-17"
    assert person["gp"] == {"name": "Dr Patel", "practice": None}
    assert person["sport"] == "Fell running"

    (appointment,) = data["appointments"]
    assert appointment["starts_at"] == "2031-03-03T10:00:00+00:00"  # London winter time
    assert appointment["service"] == "Sports massage 60"
    assert appointment["therapist"] == "Tom Turner"
    assert appointment["status"] == "completed"
    assert appointment["price"] == {"amount_minor": 6000, "currency": "GBP"}

    (sale,) = data["purchases"]["packages"]
    assert sale["name"] == "Rehab course of 6"
    assert (sale["sessions_total"], sale["sessions_used"]) == (6, 0)
    assert sale["price"] == {"amount_minor": 30000, "currency": "GBP"}
    assert sale["tax_rate_bp"] == 2000  # integer basis points, never a float
    (membership,) = data["purchases"]["memberships"]
    assert membership["name"] == "Monthly maintenance"
    assert membership["sessions_used"] == 0
    assert membership["tax_rate_bp"] == 0
    assert "tax_rate_percent" not in sale and "tax_rate_percent" not in membership

    (intake,) = data["intakes"]
    assert intake["form"] == {"title": "Sports massage intake", "version": 1}
    goals = next(q for q in intake["questions"] if q["key"] == "goals")
    assert goals["label"] == "What would you like to get from treatment?"
    assert goals["answer"] == "Stay injury-free before the marathon"
    injuries = next(q for q in intake["questions"] if q["key"] == "injuries")
    assert injuries["answer"] == [{"site": "left calf", "since": "March", "pain": 4}]
    assert injuries["answer_text"] == "left calf, since March, pain 4/10"
    (flag,) = intake["flags"]
    assert flag["description"] == "Local: avoid the left calf (Varicose veins)"
    assert intake["signed_name"] == "Casey Client"
    assert ISO_WITH_OFFSET.match(intake["signed_at"])

    (note,) = data["treatment_notes"]
    assert note["content"] == NOTE
    assert note["status"] == "signed"
    assert note["author"] == "Therapist of Northside Sports Massage"
    assert note["appointment_starts_at"] == "2031-03-03T10:00:00+00:00"
    assert [a["text"] for a in note["amendments"]] == [AMENDMENT]
    assert ISO_WITH_OFFSET.match(note["signed_at"])
    assert ISO_WITH_OFFSET.match(data["exported_at"])

    (event,) = _export_events(app, clinic_a)
    assert event.client_id == record.client_id
    assert event.detail == {"format": "json"}
    assert event.actor == "Owner of Northside Sports Massage (owner)"
    assert event.ip_address == "127.0.0.1"


def test_manager_reads_the_record_as_a_printable_document(app, client, auth, clinic_a, record):
    auth.login_as(Role.MANAGER, clinic_a)
    response = client.get(f"/c/northside/clients/{record.client_id}/export")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Client record: Ada Runner" in page
    assert "records.css" in page  # the print styles
    assert "Stay injury-free before the marathon" in page
    assert "Local: avoid the left calf (Varicose veins)" in page
    assert "Tight left hamstring after the Quarrybank fell race" in page
    assert "Hamstrings · left" in page
    assert AMENDMENT in page
    assert "Rehab course of 6" in page and "£300.00" in page
    (event,) = _export_events(app, clinic_a)
    assert event.detail == {"format": "html"}
    assert event.actor == "Manager of Northside Sports Massage (manager)"


def test_answers_with_markup_are_shown_as_text_in_the_document(app, client, auth, clinic_a):
    schedule = build_schedule(app, clinic_a)
    response_id = add_intake(app, schedule)
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            # Rewriting the answers goes through a new response: signed intakes never change.
            old = db.session.get(IntakeResponse, (clinic.id, response_id))
            answers = dict(old.answers, goals="<script>alert('x')</script> run faster")
            db.session.add(
                IntakeResponse(
                    client_id=old.client_id,
                    template_id=old.template_id,
                    answers=answers,
                    flags=[],
                    signed_name="<b>Ada</b>",
                    submitted_via="desk",
                )
            )
            db.session.commit()
    auth.login_as(Role.OWNER, clinic_a)
    page = client.get(f"/c/northside/clients/{schedule.client_id}/export").get_data(as_text=True)
    assert "<script>alert" not in page and "<b>Ada</b>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; run faster" in page


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.THERAPIST])
def test_receptionist_and_therapist_cannot_export(app, client, auth, clinic_a, record, role):
    auth.login_as(role, clinic_a)
    base = f"/c/northside/clients/{record.client_id}"
    for url in (f"{base}/export.json", f"{base}/export"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"marathon" not in response.data
    assert _export_events(app, clinic_a) == []


def test_the_client_page_offers_export_and_erasure_by_role(app, client, auth, clinic_a, record):
    url = f"/c/northside/clients/{record.client_id}"
    expected = {
        Role.OWNER: {"export-json", "export-document", "erase-link"},
        Role.MANAGER: {"export-json", "export-document"},
        Role.RECEPTIONIST: set(),
        Role.THERAPIST: set(),
    }
    for role, actions in expected.items():
        auth.login_as(role, clinic_a)
        page = client.get(url).get_data(as_text=True)
        shown = {a for a in ("export-json", "export-document", "erase-link") if a in page}
        assert shown == actions, role
        auth.logout()
