"""SOAP treatment notes: who may write them, when, what they hold, signing, locking, amending."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import render_template_string
from flask_login import login_user
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.clinical import notes
from clinic_saas.extensions import db
from clinic_saas.models import (
    AppointmentStatus,
    Client,
    Clinic,
    Membership,
    NoteAmendment,
    NoteStatus,
    Role,
    Therapist,
    TreatmentNote,
)
from clinic_saas.models.base import utcnow

from .factories import add_appointment, add_intake, build_schedule
from .test_red_flags import (
    BOOK,
    LONDON,
    MONDAY,
    THERAPIST_NAME,
    add_visit,
    at,
    audit_events,
    in_clinic,
    link_login,
    other_therapist,
    page_of,
    set_status,
)

NOTE = {
    "subjective": "Tight left hamstring after the 30 km long run; wants to race in 3 weeks.",
    "pain_before": "6",
    "pain_after": "2",
    "objective": "Anterior pelvic tilt. Straight-leg raise 60 degrees left, 80 right.",
    "gait": "Shortened left stride at push-off.",
    "assessment": "Hamstring overload, no sign of tear.",
    "regions": ["hamstrings:left", "hamstrings:right", "calves:left", "abdomen"],
    "techniques-0-technique": "kneading",
    "techniques-0-region": "hamstrings",
    "techniques-0-minutes": "20",
    "techniques-0-purpose": "Release tone before stretching",
    "techniques-1-technique": "trigger_pointing",
    "techniques-1-region": "glutes",
    "techniques-1-minutes": "10",
    "techniques-1-purpose": "",
    "techniques-2-technique": "",
    "techniques-2-region": "",
    "techniques-2-minutes": "",
    "techniques-2-purpose": "",
    "plan": "Eccentric hamstring work 3x a week.",
    "next_visit": "2031-06-16",
    "referral": "",
}


HOURS_2 = timedelta(hours=2)


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


@pytest.fixture
def visit(app, clinic_a, schedule):
    """A checked-in appointment of the therapist login's own, the client with a current intake
    that raised no flag: the note may be written straight away (and signed: it has started)."""
    link_login(app, schedule, clinic_a)
    appointment_id = add_appointment(app, schedule, utcnow().replace(microsecond=0) - HOURS_2)
    set_status(app, schedule, appointment_id, AppointmentStatus.CHECKED_IN)
    add_intake(app, schedule)
    return appointment_id


def note_url(appointment_id, action: str = "") -> str:
    return f"{BOOK}/{appointment_id}/note" + (f"/{action}" if action else "")


def stored_note(app, schedule) -> tuple[TreatmentNote | None, list[str]]:
    def read():
        note = db.session.scalar(select(TreatmentNote))
        amendments = [a.text for a in db.session.scalars(select(NoteAmendment))]
        if note is not None:
            db.session.expunge(note)
        return note, amendments

    return in_clinic(app, schedule, read)


def write(client, appointment_id, data=None, action: str = ""):
    return client.post_form(note_url(appointment_id, action), data or NOTE)


# Writing, signing, locking, amending -------------------------------------------------------------


def test_a_note_is_drafted_signed_locked_and_amended(app, client, auth, clinic_a, schedule, visit):
    auth.login_as(Role.THERAPIST, clinic_a)
    form = page_of(client, note_url(visit))
    assert 'data-testid="note-form"' in form
    assert "Hamstrings" in form and "Kneading" in form

    answer = write(client, visit)
    assert answer.status_code == 302 and answer.headers["Location"].endswith(note_url(visit))
    note, _ = stored_note(app, schedule)
    assert note.status == NoteStatus.DRAFT
    assert note.author_id == clinic_a.member_ids[Role.THERAPIST]
    content = note.content
    assert content["pain_before"] == 6 and content["pain_after"] == 2
    assert content["regions"] == [
        {"view": "front", "region": "abdomen", "side": None},
        {"view": "back", "region": "hamstrings", "side": "both"},
        {"view": "back", "region": "calves", "side": "left"},
    ]
    assert content["techniques"] == [
        {
            "technique": "kneading",
            "region": "hamstrings",
            "minutes": 20,
            "purpose": "Release tone before stretching",
        },
        {"technique": "trigger_pointing", "region": "glutes", "minutes": 10, "purpose": ""},
    ]
    assert len(audit_events(app, schedule, "note.write")) == 1

    # The draft comes back into the form, both sides of the hamstrings ticked.
    again = page_of(client, note_url(visit))
    ticked = re.findall(r'name="regions" value="([\w:]+)"[^>]*checked', again)
    assert ticked == ["abdomen", "hamstrings:left", "hamstrings:right", "calves:left"]
    assert "Tight left hamstring" in again

    signed = client.post_form(note_url(visit, "sign"))
    assert signed.status_code == 302
    note, _ = stored_note(app, schedule)
    assert note.status == NoteStatus.SIGNED
    assert note.signed_by_id == clinic_a.member_ids[Role.THERAPIST]
    assert note.signed_at is not None
    assert len(audit_events(app, schedule, "note.sign")) == 1

    document = page_of(client, note_url(visit))
    assert 'data-testid="note-form"' not in document
    for heading in ("Subjective", "Objective", "Assessment", "Plan and treatment"):
        assert heading in document
    assert re.search(r"<strong>6</strong>.*&rarr;.*<strong>2</strong>", document)
    assert "Hamstrings · both sides" in document and "Calves · left" in document
    assert "Monday 16 June 2031" in document  # the next visit, a date
    assert f"Signed by {THERAPIST_NAME}" in document

    # Editing a signed note is refused, and nothing changes.
    changed = dict(NOTE, subjective="Rewritten history")
    for action in ("", "sign"):
        refused = write(client, visit, changed, action)
        assert refused.status_code == 409
        assert "signed and locked" in refused.get_data(as_text=True)
        assert "Rewritten history" not in refused.get_data(as_text=True)
    after, _ = stored_note(app, schedule)
    assert after.content == note.content and after.status == NoteStatus.SIGNED
    assert len(audit_events(app, schedule, "note.write")) == 1

    amended = client.post_form(
        note_url(visit, "amend"), {"text": "Correction: it was the right hamstring."}
    )
    assert amended.status_code == 302
    _, amendments = stored_note(app, schedule)
    assert amendments == ["Correction: it was the right hamstring."]
    assert len(audit_events(app, schedule, "note.amend")) == 1
    document = page_of(client, note_url(visit))
    original = document.index("Tight left hamstring after the 30 km long run")
    correction = document.index("Correction: it was the right hamstring.")
    assert original < correction
    assert f"Amended by {THERAPIST_NAME} at " in document
    assert "Signed and amended" in document


def test_save_and_sign_signs_what_was_typed(app, client, auth, clinic_a, schedule, visit):
    auth.login_as(Role.THERAPIST, clinic_a)
    answer = write(client, visit, NOTE, "sign")
    assert answer.status_code == 302
    note, _ = stored_note(app, schedule)
    assert note.status == NoteStatus.SIGNED
    assert note.content["subjective"] == NOTE["subjective"]


def test_signing_needs_s_or_a_and_a_technique_or_region(
    app, client, auth, clinic_a, schedule, visit
):
    auth.login_as(Role.THERAPIST, clinic_a)
    write(client, visit, {"plan": "Rest", "techniques-0-technique": ""})
    answer = client.post_form(note_url(visit, "sign"), follow_redirects=True)
    text = answer.get_data(as_text=True)
    assert "the client&#39;s account (S) or your assessment (A)" in text
    assert "at least one technique or body region" in text
    note, _ = stored_note(app, schedule)
    assert note.status == NoteStatus.DRAFT
    assert audit_events(app, schedule, "note.sign") == []


def test_a_note_is_signed_only_once_its_session_has_started(app, client, auth, clinic_a, schedule):
    link_login(app, schedule, clinic_a)
    early = add_appointment(app, schedule, at(MONDAY, 10, 45))
    set_status(app, schedule, early, AppointmentStatus.CHECKED_IN)
    add_intake(app, schedule)
    auth.login_as(Role.THERAPIST, clinic_a)
    form = page_of(client, note_url(early))
    assert note_url(early, "sign") not in form
    when = "its note can be signed from 10:45 on Mon 2 Jun 2031, its start time."
    assert when in form

    for answer in (write(client, early, NOTE, "sign"), client.post_form(note_url(early, "sign"))):
        assert answer.status_code == 302 and answer.headers["Location"].endswith(note_url(early))
        assert f"This session has not started yet: {when}" in page_of(client, note_url(early))
    note, _ = stored_note(app, schedule)
    assert note.status == NoteStatus.DRAFT  # what was typed is kept as a draft
    assert note.content["subjective"] == NOTE["subjective"]
    assert audit_events(app, schedule, "note.sign") == []


def test_an_amendment_needs_a_signed_note_and_3_to_5000_characters(
    app, client, auth, clinic_a, schedule, visit
):
    auth.login_as(Role.THERAPIST, clinic_a)
    write(client, visit)
    draft = client.post_form(note_url(visit, "amend"), {"text": "Too early"}, follow_redirects=True)
    assert "amendments are for signed notes" in draft.get_data(as_text=True)
    client.post_form(note_url(visit, "sign"))
    for text in ("ok", "x" * 5001, "   "):
        refused = client.post_form(note_url(visit, "amend"), {"text": text})
        assert refused.status_code == 400
        assert "3 to 5000 characters" in refused.get_data(as_text=True)
    _, amendments = stored_note(app, schedule)
    assert amendments == []


def test_bad_inputs_are_refused_with_messages_and_nothing_is_saved(
    app, client, auth, clinic_a, schedule, visit
):
    auth.login_as(Role.THERAPIST, clinic_a)
    bad = dict(
        NOTE,
        pain_before="11",
        pain_after="soft",
        regions=["spleen:left", "abdomen:left", "hamstrings"],
        **{
            "techniques-0-minutes": "0",
            "techniques-1-minutes": "181",
            "techniques-1-technique": "reiki",
            "techniques-2-region": "calves",
        },
        assessment="x" * 5001,
    )
    answer = write(client, visit, bad)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "Pain before is a whole number from 0 (none) to 10" in page
    assert "Pain after is a whole number from 0 (none) to 10" in page
    assert "Unknown body region: spleen:left, abdomen:left, hamstrings." in page
    assert page.count("Minutes from 1 to 180.") == 3  # 0, 181 and a row with no minutes
    assert "Choose one of the listed techniques." in page
    assert "Choose the technique." in page
    assert "Keep this under 5000 characters (it has 5001)." in page
    assert stored_note(app, schedule) == (None, [])
    assert audit_events(app, schedule, "note.write") == []


def test_script_in_a_note_is_shown_as_text(app, client, auth, clinic_a, schedule, visit):
    auth.login_as(Role.THERAPIST, clinic_a)
    write(client, visit, dict(NOTE, subjective="<script>alert('x')</script> sore"), "sign")
    page = page_of(client, note_url(visit))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; sore" in page


def test_the_clinics_own_techniques_are_offered_and_accepted(
    app, client, auth, clinic_a, schedule, visit
):
    def add_own():
        therapist = db.session.scalar(
            select(Therapist).where(Therapist.id == schedule.therapist_id)
        )
        therapist.techniques = ["kneading", "myofascial_release"]

    in_clinic(app, schedule, add_own)
    auth.login_as(Role.THERAPIST, clinic_a)
    assert '<option value="myofascial_release">Myofascial release</option>' in page_of(
        client, note_url(visit)
    )
    answer = write(client, visit, dict(NOTE, **{"techniques-1-technique": "myofascial_release"}))
    assert answer.status_code == 302
    note, _ = stored_note(app, schedule)
    assert note.content["techniques"][1]["technique"] == "myofascial_release"


# When a note may be written ----------------------------------------------------------------------


def test_red_flags_must_be_acknowledged_before_the_note(app, client, auth, clinic_a, schedule):
    link_login(app, schedule, clinic_a)
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    set_status(app, schedule, appointment_id, AppointmentStatus.CHECKED_IN)
    add_intake(app, schedule, codes=("varicose_veins",), sites={"varicose_veins": "left calf"})
    auth.login_as(Role.THERAPIST, clinic_a)
    detail = f"{BOOK}/{appointment_id}"
    for answer in (client.get(note_url(appointment_id)), write(client, appointment_id)):
        assert answer.status_code == 302 and answer.headers["Location"].endswith(detail)
    assert "Acknowledge the red flags before writing the note" in page_of(client, detail)
    assert stored_note(app, schedule) == (None, [])

    client.post_form(f"{BOOK}/{appointment_id}/acknowledge")
    form = page_of(client, note_url(appointment_id))
    assert 'data-testid="note-form"' in form
    assert "Local: avoid the left calf (Varicose veins)" in form  # beside the form, audited
    assert f"Acknowledged by {THERAPIST_NAME}" in form
    assert write(client, appointment_id).status_code == 302
    assert stored_note(app, schedule)[0] is not None


def test_a_missing_intake_must_be_acknowledged_too(app, client, auth, clinic_a, schedule):
    link_login(app, schedule, clinic_a)
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    set_status(app, schedule, appointment_id, AppointmentStatus.COMPLETED)
    auth.login_as(Role.THERAPIST, clinic_a)
    assert write(client, appointment_id).status_code == 302
    assert stored_note(app, schedule) == (None, [])
    client.post_form(f"{BOOK}/{appointment_id}/acknowledge")
    assert write(client, appointment_id).status_code == 302
    assert stored_note(app, schedule)[0] is not None


def test_the_note_waits_for_the_client_to_be_checked_in(app, client, auth, clinic_a, schedule):
    link_login(app, schedule, clinic_a)
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    add_intake(app, schedule)
    auth.login_as(Role.THERAPIST, clinic_a)
    answer = client.get(note_url(appointment_id), follow_redirects=True)
    assert "Check the client in before writing the treatment note." in answer.get_data(as_text=True)
    assert write(client, appointment_id).status_code == 302
    assert stored_note(app, schedule) == (None, [])


# Who may do what ---------------------------------------------------------------------------------


def test_another_therapist_may_neither_write_nor_sign_nor_acknowledge(
    app, client, auth, clinic_a, schedule
):
    other_therapist(app, schedule, clinic_a)
    appointment_id = add_appointment(app, schedule, at(MONDAY, 10))
    set_status(app, schedule, appointment_id, AppointmentStatus.CHECKED_IN)
    add_intake(app, schedule)
    auth.login_as(Role.THERAPIST, clinic_a)
    assert write(client, appointment_id).status_code == 403
    assert write(client, appointment_id, NOTE, "sign").status_code == 403
    assert client.post_form(f"{BOOK}/{appointment_id}/acknowledge").status_code == 403
    # They may read the (missing) note, as a clinical member: no form for them.
    page = page_of(client, note_url(appointment_id))
    assert 'data-testid="no-note"' in page and 'data-testid="note-form"' not in page
    assert stored_note(app, schedule) == (None, [])


def test_the_owner_may_write_any_note(app, client, auth, clinic_a, schedule, visit):
    auth.login_as(Role.OWNER, clinic_a)
    assert write(client, visit).status_code == 302
    note, _ = stored_note(app, schedule)
    assert note.author_id == clinic_a.member_ids[Role.OWNER]


def test_receptionist_cannot_read_or_write_treatment_notes(
    app, client, auth, clinic_a, schedule, visit
):
    auth.login_as(Role.THERAPIST, clinic_a)
    write(client, visit)
    auth.logout()
    auth.login_as(Role.RECEPTIONIST, clinic_a)
    assert client.get(note_url(visit)).status_code == 403
    assert write(client, visit, dict(NOTE, subjective="desk")).status_code == 403
    assert client.post_form(note_url(visit, "sign")).status_code == 403
    assert client.post_form(note_url(visit, "amend"), {"text": "desk note"}).status_code == 403
    detail = page_of(client, f"{BOOK}/{visit}")
    assert 'data-testid="treatment-note"' not in detail
    note, _ = stored_note(app, schedule)
    assert note.content["subjective"] == NOTE["subjective"]
    assert audit_events(app, schedule, "note.view") == []


def test_a_manager_reads_but_does_not_write(app, client, auth, clinic_a, schedule, visit):
    auth.login_as(Role.THERAPIST, clinic_a)
    write(client, visit)
    auth.logout()
    auth.login_as(Role.MANAGER, clinic_a)
    page = page_of(client, note_url(visit))
    assert "Tight left hamstring" in page and 'data-testid="note-status">Draft' in page
    assert 'data-testid="note-form"' not in page
    assert write(client, visit, dict(NOTE, subjective="manager")).status_code == 403
    assert stored_note(app, schedule)[0].content["subjective"] == NOTE["subjective"]


def test_any_clinical_writer_may_amend_a_signed_note(app, client, auth, clinic_a, schedule, visit):
    auth.login_as(Role.THERAPIST, clinic_a)
    write(client, visit, NOTE, "sign")
    auth.logout()
    auth.login_as(Role.OWNER, clinic_a)
    client.post_form(note_url(visit, "amend"), {"text": "Seen by the owner: agreed."})
    page = page_of(client, note_url(visit))
    assert "Amended by Owner of Northside Sports Massage at " in page


# Audit -------------------------------------------------------------------------------------------


def test_every_view_of_a_note_is_audited(app, client, auth, clinic_a, schedule, visit):
    auth.login_as(Role.THERAPIST, clinic_a)
    page_of(client, note_url(visit))  # the empty form: nothing read yet
    assert audit_events(app, schedule, "note.view") == []
    write(client, visit)
    page_of(client, note_url(visit))  # the draft in the form
    client.post_form(note_url(visit, "sign"))
    auth.logout()
    auth.login_as(Role.MANAGER, clinic_a)
    page_of(client, note_url(visit))
    events = audit_events(app, schedule, "note.view")
    assert len(events) == 2
    assert {e.client_id for e in events} == {schedule.client_id}
    assert {e.subject_type for e in events} == {"treatment_note"}
    assert events[-1].actor == "Manager of Northside Sports Massage (manager)"


# The client's page: treatment history ------------------------------------------------------------


def _client_panel(app, clinic_a, schedule, role) -> str:
    with app.test_request_context("/c/northside/clients/x"):
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            membership = db.session.scalar(
                select(Membership).where(Membership.id == clinic_a.member_ids[role])
            )
            tenancy.bind(clinic, membership)
            login_user(membership.user)
            person = db.session.scalar(select(Client).where(Client.id == schedule.client_id))
            html = render_template_string('{% include "notes/_client_panel.html" %}', client=person)
            db.session.commit()
            return html


def test_the_client_page_lists_treatments_for_clinical_roles_and_a_count_for_the_desk(
    app, client, auth, clinic_a, schedule, visit
):
    auth.login_as(Role.THERAPIST, clinic_a)
    write(client, visit, NOTE, "sign")
    client.post_form(note_url(visit, "amend"), {"text": "Addendum."})
    _, second = add_visit(
        app, schedule, at(MONDAY + timedelta(days=7), 10), "", client_id=schedule.client_id
    )
    set_status(app, schedule, second, AppointmentStatus.COMPLETED)
    add_visit(app, schedule, at(MONDAY + timedelta(days=14), 10), "", client_id=schedule.client_id)

    panel = _client_panel(app, clinic_a, schedule, Role.THERAPIST)
    rows = re.findall(r'data-testid="treatment-row" data-status="(\w+)"', panel)
    assert rows == ["none", "amended"]  # newest first; the booked visit is not a treatment
    assert "6 &rarr; 2" in panel
    assert "Hamstrings · both sides" in panel and "Abdomen" in panel
    assert note_url(visit) in panel
    [event] = [e for e in audit_events(app, schedule, "note.view") if e.subject_type == "note_list"]
    note, _ = stored_note(app, schedule)
    assert event.detail == {"note_ids": [str(note.id)]}

    desk = _client_panel(app, clinic_a, schedule, Role.RECEPTIONIST)
    assert "1 session with notes." in desk
    for secret in ("Hamstrings", "&rarr;", "Amended", note_url(visit)):
        assert secret not in desk


# The domain, directly ----------------------------------------------------------------------------


def test_a_signed_note_cannot_be_saved_again_whatever_the_caller(app, clinic_a, schedule, visit):
    def attempt():
        from clinic_saas.models import Appointment

        appointment = db.session.scalar(select(Appointment).where(Appointment.id == visit))
        member = db.session.scalar(
            select(Membership).where(Membership.id == clinic_a.member_ids[Role.THERAPIST])
        )
        content = notes.clean({"subjective": "S", "regions": ["abdomen"]}, {"kneading"})
        clinic = tenancy.current_clinic()
        note = notes.save_draft(appointment, content, member, clinic=clinic)
        notes.sign(appointment, note, member, clinic=clinic)
        with pytest.raises(notes.NoteLocked):
            notes.save_draft(
                appointment, dict(content, subjective="changed"), member, clinic=clinic
            )
        with pytest.raises(notes.NoteLocked):
            notes.sign(appointment, note, member, clinic=clinic)
        return note.signed_at

    with app.test_request_context():
        assert in_clinic(app, schedule, attempt) <= utcnow()


def _starts_at(appointment_id):
    from clinic_saas.models import Appointment

    return db.session.scalar(select(Appointment.starts_at).where(Appointment.id == appointment_id))


def test_my_schedule_and_the_appointment_page_lead_to_the_note(
    app, client, auth, clinic_a, schedule, visit
):
    auth.login_as(Role.THERAPIST, clinic_a)
    day = in_clinic(app, schedule, lambda: _starts_at(visit)).astimezone(LONDON).date()
    mine_url = f"{BOOK}/mine?date={day.isoformat()}"
    detail_url = f"{BOOK}/{visit}"
    link = f'href="{note_url(visit)}" data-testid="note-link">'
    assert link + "Write note" in page_of(client, mine_url)
    assert 'data-testid="note-button">Write the note' in page_of(client, detail_url)
    write(client, visit)
    assert link + "Note draft" in page_of(client, mine_url)
    assert 'data-testid="note-button">Continue the note' in page_of(client, detail_url)
    client.post_form(note_url(visit, "sign"))
    assert link + "Note signed" in page_of(client, mine_url)
    detail = page_of(client, detail_url)
    assert 'data-testid="note-status">Signed' in detail
    assert 'data-testid="note-button">Open the note' in detail
