"""Intake at the clinic: sending the link, the desk, reading a signed intake, the client page's
panel, and the owner's form editor with its versions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.clinical.templates import current_template
from clinic_saas.extensions import db
from clinic_saas.models import AuditEvent, Client, IntakeLink, IntakeResponse, IntakeTemplate, Role

from .conftest import PASSWORD, link_in
from .factories import add_intake, build_schedule
from .test_intake_links import good_form, make_link, responses, with_clinic


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


@pytest.fixture
def login(auth, clinic_a):
    return lambda role: auth.login_as(role, clinic_a)


def client_url(schedule) -> str:
    return f"/c/northside/clients/{schedule.client_id}"


def audit_events(app, clinic_id, action=None) -> list[AuditEvent]:
    def load():
        query = select(AuditEvent).order_by(AuditEvent.at)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(db.session.scalars(query))

    return with_clinic(app, clinic_id, load)


def add_child(app, schedule, email=None, guardian=True) -> str:
    def make():
        child = Client(
            first_name="Sam",
            last_name="Runner",
            email=email,
            guardian_id=schedule.client_id if guardian else None,
        )
        db.session.add(child)
        db.session.commit()
        return child.id

    return with_clinic(app, schedule.clinic_id, make)


# Sending ----------------------------------------------------------------------------------------


def test_emailing_a_link_puts_it_in_the_outbox_and_it_opens_the_form(
    app, client, auth, login, schedule, outbox
):
    login(Role.RECEPTIONIST)
    sent = client.post_form(f"{client_url(schedule)}/intake/send")
    assert sent.status_code == 302
    assert sent.location.endswith(client_url(schedule))
    (message,) = outbox()
    assert message.to == "ada@example.com"
    assert "Northside Sports Massage" in message.subject
    assert "Hello Ada Runner" in message.text
    path = link_in(message, "/intake/")
    auth.logout()
    page = client.get(path)
    assert page.status_code == 200
    assert "Hello Ada." in page.get_data(as_text=True)
    assert client.post_form(path, good_form()).status_code == 200
    (event,) = audit_events(app, schedule.clinic_id, "intake.send")
    assert event.client_id == schedule.client_id and event.detail == {"channel": "email"}
    link = with_clinic(
        app, schedule.clinic_id, lambda: db.session.scalars(select(IntakeLink)).one()
    )
    assert link.sent_to == "ada@example.com" and link.channel == "email"
    assert link.secret_hash not in message.text  # only the hash is stored, never the secret


def test_a_child_without_email_gets_the_link_through_the_parent(
    app, client, auth, login, schedule, outbox
):
    child_id = add_child(app, schedule)
    login(Role.RECEPTIONIST)
    sent = client.post_form(f"/c/northside/clients/{child_id}/intake/send")
    assert sent.status_code == 302
    (message,) = outbox()
    assert message.to == "ada@example.com"
    assert "Sam's health questionnaire" in message.subject
    assert "for Sam before their treatment" in message.text
    page = client.get(link_in(message, "/intake/"))
    assert "Hello Sam." in page.get_data(as_text=True)


def test_no_email_at_all_is_a_clear_error_and_sends_nothing(
    app, client, auth, login, schedule, outbox
):
    child_id = add_child(app, schedule, guardian=False)
    login(Role.RECEPTIONIST)
    sent = client.post_form(f"/c/northside/clients/{child_id}/intake/send", follow_redirects=True)
    assert "has no email address, and no parent or guardian with one" in sent.get_data(as_text=True)
    assert outbox() == []
    assert (
        with_clinic(app, schedule.clinic_id, lambda: db.session.scalars(select(IntakeLink)).all())
        == []
    )


def test_fill_in_at_the_desk_opens_the_form_on_this_device(app, client, auth, login, schedule):
    login(Role.RECEPTIONIST)
    opened = client.post_form(f"{client_url(schedule)}/intake/desk")
    assert opened.status_code == 302
    assert opened.location.startswith("/intake/")
    done = client.post_form(opened.location, good_form())
    assert done.status_code == 200
    assert "hand this device back" in done.get_data(as_text=True)
    (stored,) = responses(app, schedule.clinic_id)
    assert stored.submitted_via == "desk"
    (event,) = audit_events(app, schedule.clinic_id, "intake.submit")
    assert event.actor == "Client (at the desk)"


def test_desk_mode_locks_the_browser_until_the_staff_password_is_given(
    app, client, auth, login, schedule
):
    login(Role.RECEPTIONIST)
    opened = client.post_form(f"{client_url(schedule)}/intake/desk")
    form_url = opened.location
    form = client.get(form_url).get_data(as_text=True)
    assert 'data-testid="intake-form"' in form
    assert "navbar" not in form and "/c/northside/clients" not in form  # no staff navigation

    # Every back-office page (Back included) leads to the unlock page, which shows no staff data.
    for url in (client_url(schedule), "/c/northside/", "/c/northside/appointments/", "/account/"):
        page = client.get(url)
        assert page.status_code == 302, url
        assert page.location == "/c/northside/unlock", url
    unlock = client.get("/c/northside/unlock").get_data(as_text=True)
    assert 'data-testid="kiosk-unlock"' in unlock and "navbar" not in unlock

    done = client.post_form(form_url, good_form()).get_data(as_text=True)
    assert 'data-testid="hand-back-to-staff"' in done and 'href="/c/northside/unlock"' in done

    wrong = client.post_form("/c/northside/unlock", {"password": "not-the-password"})
    assert wrong.status_code == 400
    assert "not the password" in wrong.get_data(as_text=True)
    assert client.get(client_url(schedule)).location == "/c/northside/unlock"

    right = client.post_form("/c/northside/unlock", {"password": PASSWORD})
    assert right.status_code == 302 and right.location == client_url(schedule)
    back = client.get(client_url(schedule))
    assert back.status_code == 200 and "navbar" in back.get_data(as_text=True)


# Reading a signed intake ------------------------------------------------------------------------


def test_a_therapist_reads_a_signed_intake_with_its_flags_and_the_read_is_audited(
    app, client, auth, login, schedule
):
    response_id = add_intake(app, schedule, codes=("dvt", "fever"), sites={"dvt": "left calf"})
    login(Role.THERAPIST)
    page = client.get(f"/c/northside/intakes/{response_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Absolute: no treatment today (Fever or feeling unwell today)" in html
    assert "Local: avoid the left calf (Deep vein thrombosis or blood clots)" in html
    assert "Running, 40 km a week" in html
    assert "Casey Client" in html
    assert "Form version 1" in html
    (event,) = audit_events(app, schedule.clinic_id, "intake.view")
    assert event.subject_id == response_id and event.client_id == schedule.client_id
    assert event.actor == "Therapist of Northside Sports Massage (therapist)"
    client.get(f"/c/northside/intakes/{response_id}")
    # Reading it again within the window is the same read: one event says who read it and when.
    assert len(audit_events(app, schedule.clinic_id, "intake.view")) == 1


def test_a_receptionist_cannot_read_an_intake(app, client, auth, login, schedule):
    response_id = add_intake(app, schedule, codes=("fever",))
    login(Role.RECEPTIONIST)
    page = client.get(f"/c/northside/intakes/{response_id}")
    assert page.status_code == 403
    assert "Fever" not in page.get_data(as_text=True)
    assert audit_events(app, schedule.clinic_id, "intake.view") == []


def test_a_script_bearing_answer_shows_escaped_on_the_response_page(
    app, client, auth, login, schedule
):
    token = make_link(app, schedule.clinic_id, schedule.client_id)
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert (
        client.post_form(
            f"/intake/{token}",
            good_form(**{"q-goals": script, "q-contraindications-site-varicose_veins": script}),
        ).status_code
        == 200
    )
    (stored,) = responses(app, schedule.clinic_id)
    login(Role.OWNER)
    html = client.get(f"/c/northside/intakes/{stored.id}").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    panel = client.get(client_url(schedule)).get_data(as_text=True)
    assert "<script>alert" not in panel
    assert "Local: avoid the &lt;script&gt;" in panel


# The client page's panel ------------------------------------------------------------------------


def test_a_receptionist_sees_that_a_flag_exists_but_never_what_it_says(
    app, client, auth, login, schedule
):
    add_intake(app, schedule, codes=("dvt",), sites={"dvt": "left calf"})
    login(Role.RECEPTIONIST)
    page = client.get(client_url(schedule))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Red flag on file (visible to therapists)" in html
    assert "Deep vein" not in html and "left calf" not in html
    assert "/intakes/" not in html
    assert "Email intake link" in html and "Fill in at the desk" in html
    assert audit_events(app, schedule.clinic_id, "flags.view") == []


def test_a_therapist_sees_the_flags_one_per_line_and_the_read_is_audited(
    app, client, auth, login, schedule, count_queries
):
    response_id = add_intake(app, schedule, codes=("dvt", "fever"), sites={"dvt": "left calf"})
    login(Role.THERAPIST)
    page = client.get(client_url(schedule))
    html = page.get_data(as_text=True)
    lines = re.findall(r'<li data-testid="flag">([^<]+)</li>', html)
    assert lines == [
        "Absolute: no treatment today (Fever or feeling unwell today)",
        "Local: avoid the left calf (Deep vein thrombosis or blood clots)",
    ]
    assert f"/c/northside/intakes/{response_id}" in html
    assert 'data-state="current"' in html
    (event,) = audit_events(app, schedule.clinic_id, "flags.view")
    assert event.client_id == schedule.client_id and event.subject_id == response_id

    few, _ = count_queries(lambda: client.get(client_url(schedule)))
    for _ in range(5):
        add_intake(app, schedule, codes=("fever",))
    client.get(client_url(schedule))  # the newest intake's flags: a new read, written once
    many, _ = count_queries(lambda: client.get(client_url(schedule)))
    assert many == few  # both are repeat reads within the audit window


def test_the_panel_says_when_no_intake_is_on_file_and_when_a_link_is_waiting(
    app, client, auth, login, schedule
):
    login(Role.THERAPIST)
    html = client.get(client_url(schedule)).get_data(as_text=True)
    assert 'data-state="missing"' in html
    assert "No intake signed yet" in html
    client.post_form(f"{client_url(schedule)}/intake/send")
    html = client.get(client_url(schedule)).get_data(as_text=True)
    assert "Link emailed to ada@example.com" in html
    assert audit_events(app, schedule.clinic_id, "flags.view") == []


# The owner's form editor ------------------------------------------------------------------------


def _edit_form(template: dict, **changes) -> dict:
    """The editor's fields as the GET page fills them, plus changes."""
    data = {"version": str(template["version"]), "title": template["title"]}
    data["consent_text"] = template["consent_text"]
    for n, q in enumerate(template["questions"], start=1):
        prefix = f"e-{q['key']}"
        data[f"{prefix}-label"] = q["label"]
        data[f"{prefix}-help"] = q.get("help", "")
        data[f"{prefix}-section"] = q["section"]
        data[f"{prefix}-position"] = str(n * 10)
        if q.get("required"):
            data[f"{prefix}-required"] = "1"
        if q.get("options"):
            data[f"{prefix}-options"] = "\n".join(q["options"])
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def _current(app, schedule) -> dict:
    def load():
        t = current_template()
        db.session.commit()
        return {
            "id": t.id,
            "version": t.version,
            "title": t.title,
            "consent_text": t.consent_text,
            "questions": t.questions,
        }

    return with_clinic(app, schedule.clinic_id, load)


def test_the_editor_publishes_version_2_and_old_answers_keep_version_1(
    app, client, auth, login, schedule
):
    old_response = add_intake(app, schedule, codes=("fever",))
    v1 = _current(app, schedule)
    login(Role.OWNER)
    page = client.get("/c/northside/settings/intake-form/edit")
    assert page.status_code == 200
    assert 'name="e-contraindications-label"' in page.get_data(as_text=True)
    assert 'name="e-contraindications-remove"' not in page.get_data(as_text=True)
    data = _edit_form(
        v1,
        **{
            "title": "Northside intake",
            "e-goals-label": "What are your goals for treatment?",
            "e-upcoming_events-remove": "1",
            "e-other_medications-position": "5",
            "new-1-label": "How firm do you like the pressure?",
            "new-1-kind": "choice",
            "new-1-section": "Preferences",
            "new-1-options": "Light\r\nMedium\r\nFirm\r\n",
            "new-1-required": "1",
            "new-1-position": "",
        },
    )
    published = client.post_form("/c/northside/settings/intake-form/edit", data)
    assert published.status_code == 302, published.get_data(as_text=True)
    v2 = _current(app, schedule)
    assert v2["version"] == 2 and v2["title"] == "Northside intake"
    keys = [q["key"] for q in v2["questions"]]
    assert keys[0] == "other_medications"
    assert "upcoming_events" not in keys
    assert keys[-1] == "how_firm_do_you_like_the_pressure"
    new = v2["questions"][-1]
    assert new["kind"] == "choice" and new["options"] == ["Light", "Medium", "Firm"]
    assert new["required"] is True and new["locked"] is False
    goals = next(q for q in v2["questions"] if q["key"] == "goals")
    assert goals["label"] == "What are your goals for treatment?"

    # The old intake still reads with version 1's questions.
    html = client.get(f"/c/northside/intakes/{old_response}").get_data(as_text=True)
    assert "Form version 1" in html
    assert "What would you like to get from treatment?" in html
    assert "Any upcoming events or competitions?" in html
    assert "How firm do you like the pressure?" not in html

    index = client.get("/c/northside/settings/intake-form").get_data(as_text=True)
    assert re.search(r'data-version="2">.*?in use', index, re.S)
    counts = re.findall(r'data-testid="answers-count">(\d+)<', index)
    assert counts == ["0", "1"]
    assert "Owner of Northside Sports Massage" in index
    old = client.get(f"/c/northside/settings/intake-form/{v1['id']}")
    assert old.status_code == 200
    assert "Any upcoming events or competitions?" in old.get_data(as_text=True)
    assert "replaced by a newer version" in old.get_data(as_text=True)

    editor = client.get("/c/northside/settings/intake-form/edit").get_data(as_text=True)
    assert 'name="e-how_firm_do_you_like_the_pressure-options"' in editor
    assert 'name="e-goals-options"' not in editor

    # A new link shows version 2.
    token = make_link(app, schedule.clinic_id, schedule.client_id)
    form = client.get(f"/intake/{token}").get_data(as_text=True)
    assert "How firm do you like the pressure?" in form
    assert 'name="template_version" value="2"' in form


def test_the_clinical_core_cannot_be_removed_nor_its_kind_changed(
    app, client, auth, login, schedule
):
    v1 = _current(app, schedule)
    login(Role.OWNER)
    data = _edit_form(v1, **{"e-contraindications-remove": "1", "title": "Changed title"})
    assert client.post_form("/c/northside/settings/intake-form/edit", data).status_code == 302
    v2 = _current(app, schedule)
    assert any(q["key"] == "contraindications" for q in v2["questions"])
    assert next(q for q in v2["questions"] if q["key"] == "contraindications")["required"]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"e-goals-label": "Go"}, "3 to 300 characters"),
        ({"e-goals-label": "x" * 301}, "3 to 300 characters"),
        ({"title": "x"}, "title of 3 to 120"),
        ({"consent_text": "ok"}, "consent the client signs"),
        ({"e-goals-position": "first"}, "whole number"),
        ({"e-goals-section": ""}, "section heading"),
        (
            {"new-1-label": "Which pressure?", "new-1-kind": "choice", "new-1-section": "P"},
            "at least two options",
        ),
        (
            {
                "new-1-label": "Which pressure?",
                "new-1-kind": "choice",
                "new-1-section": "P",
                "new-1-options": "Firm\nFirm",
            },
            "Each option must be different",
        ),
        (
            {
                "new-1-label": "Anything else?",
                "new-1-kind": "text",
                "new-1-section": "P",
                "new-1-options": "a\nb",
            },
            "Options are only for a question answered by choosing one",
        ),
    ],
)
def test_the_editor_refuses_bad_versions_and_publishes_nothing(
    app, client, auth, login, schedule, changes, message
):
    v1 = _current(app, schedule)
    login(Role.OWNER)
    page = client.post_form("/c/northside/settings/intake-form/edit", _edit_form(v1, **changes))
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert message in html
    assert "Nothing was published" in html
    assert _current(app, schedule)["version"] == 1


def test_a_new_question_of_a_clinical_kind_cannot_be_added(app, client, auth, login, schedule):
    v1 = _current(app, schedule)
    login(Role.OWNER)
    data = _edit_form(v1, **{"new-1-label": "More conditions", "new-1-kind": "contraindications"})
    data["new-1-section"] = "More"
    assert client.post_form("/c/northside/settings/intake-form/edit", data).status_code == 302
    v2 = _current(app, schedule)
    assert v2["questions"][-1]["kind"] == "text"  # an unknown kind falls back to short text


def test_saving_without_changes_publishes_nothing(app, client, auth, login, schedule):
    v1 = _current(app, schedule)
    login(Role.OWNER)
    page = client.post_form(
        "/c/northside/settings/intake-form/edit", _edit_form(v1), follow_redirects=True
    )
    assert "Nothing changed" in page.get_data(as_text=True)
    assert _current(app, schedule)["version"] == 1


def test_an_editor_opened_on_an_older_version_is_refused_with_409(
    app, client, auth, login, schedule
):
    v1 = _current(app, schedule)
    login(Role.OWNER)
    first = _edit_form(v1, title="First change")
    assert client.post_form("/c/northside/settings/intake-form/edit", first).status_code == 302
    stale = _edit_form(v1, title="Second change")
    page = client.post_form("/c/northside/settings/intake-form/edit", stale)
    assert page.status_code == 409
    assert "Someone published a new version" in page.get_data(as_text=True)
    assert _current(app, schedule)["title"] == "First change"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.RECEPTIONIST, Role.THERAPIST])
def test_only_the_owner_edits_the_form(app, client, auth, login, schedule, role):
    v1 = _current(app, schedule)
    login(role)
    assert client.get("/c/northside/settings/intake-form").status_code == 403
    assert client.get("/c/northside/settings/intake-form/edit").status_code == 403
    assert client.get(f"/c/northside/settings/intake-form/{v1['id']}").status_code == 403
    changed = _edit_form(v1, title="Hijacked")
    assert client.post_form("/c/northside/settings/intake-form/edit", changed).status_code == 403
    assert _current(app, schedule)["version"] == 1


def test_the_versions_page_costs_the_same_with_many_versions(
    app, client, auth, login, schedule, count_queries
):
    login(Role.OWNER)
    client.get("/c/northside/settings/intake-form")
    few, _ = count_queries(lambda: client.get("/c/northside/settings/intake-form"))
    for n in range(4):
        current = _current(app, schedule)
        data = _edit_form(current, title=f"Version {n + 2}")
        assert client.post_form("/c/northside/settings/intake-form/edit", data).status_code == 302
        add_intake(app, schedule)
    many, page = count_queries(lambda: client.get("/c/northside/settings/intake-form"))
    assert page.status_code == 200
    assert many == few
    assert page.get_data(as_text=True).count('data-testid="version-row"') == 5


def test_the_settings_page_links_to_the_intake_form(login, client, auth, schedule):
    login(Role.OWNER)
    html = client.get("/c/northside/settings/").get_data(as_text=True)
    assert "/c/northside/settings/intake-form" in html


def test_versions_are_clinic_scoped(app, client, auth, schedule, clinic_b):
    v1 = _current(app, schedule)
    auth.login_as(Role.OWNER, clinic_b)
    assert client.get(f"/c/harbour/settings/intake-form/{v1['id']}").status_code == 404
    with app.app_context(), tenancy.platform_access():
        assert db.session.scalars(select(IntakeTemplate)).all()
        assert db.session.scalars(select(IntakeResponse)).all() == []
