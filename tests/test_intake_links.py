"""The intake link a client opens without an account: signed, expiring, one use, one clinic;
and the public form behind it."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from clinic_saas import tenancy
from clinic_saas.clinical import intake
from clinic_saas.clinical.templates import DEFAULT_CONSENT, DEFAULT_TITLE, current_template, publish
from clinic_saas.extensions import db
from clinic_saas.models import AuditEvent, Client, Clinic, IntakeLink, IntakeResponse
from clinic_saas.models.base import utcnow

from .factories import build_schedule


def make_link(app, clinic_id, client_id, channel="email") -> str:
    """A fresh link's token for a client of the clinic."""
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_id)
        with tenancy.bound_to(clinic):
            client = tenancy.find(Client, client_id)
            _, token = intake.create_link(client, channel, None, sent_to=client.email)
            db.session.commit()
            return token


def good_form(version: int = 1, **changes) -> dict:
    """A complete, honest answer to the default form, ticking varicose veins in the left calf."""
    data = {
        "template_version": str(version),
        "q-activity": "Running, 40 km a week",
        "q-upcoming_events": "Manchester Marathon",
        "q-goals": "Stay injury-free",
        "q-injuries-1-site": "left calf",
        "q-injuries-1-since": "March",
        "q-injuries-1-pain": "4",
        "q-medical_history": "no",
        "q-surgery": "no",
        "q-contraindications-codes": ["varicose_veins"],
        "q-contraindications-site-varicose_veins": "left calf",
        "q-medications-none": "1",
        "consent": "1",
        "signed_name": "Ada Runner",
    }
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def with_clinic(app, clinic_id, fn):
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_id)
        with tenancy.bound_to(clinic):
            return fn()


def responses(app, clinic_id) -> list[IntakeResponse]:
    return with_clinic(
        app, clinic_id, lambda: list(db.session.scalars(select(IntakeResponse)).all())
    )


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


@pytest.fixture
def token(app, schedule):
    return make_link(app, schedule.clinic_id, schedule.client_id)


# Opening a link ---------------------------------------------------------------------------------


def test_a_link_opens_the_current_form_for_the_client(client, token):
    page = client.get(f"/intake/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Hello Ada." in html
    assert "Northside Sports Massage" in html
    assert DEFAULT_TITLE in html
    assert 'name="template_version" value="1"' in html
    assert 'name="q-contraindications-site-varicose_veins"' in html
    assert "Runner" not in html  # the first name only
    assert "ada@example.com" not in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in page.headers["X-Robots-Tag"]


def _tamper_signature(token: str) -> str:
    # The first character of the signature: all six of its bits count (the last one's low bits
    # are base64 padding, so changing it may leave the signature as it was).
    head, _, signature = token.rpartition(".")
    first = "A" if signature[0] != "A" else "B"
    return f"{head}.{first}{signature[1:]}"


def _tamper_payload(token: str) -> str:
    payload, rest = token.split(".", 1)
    swapped = payload[:-2] + ("xy" if payload[-2:] != "xy" else "zz")
    return f"{swapped}.{rest}"


@pytest.mark.parametrize(
    "mangle",
    [
        _tamper_signature,
        _tamper_payload,
        lambda t: t[: len(t) // 2],
        lambda t: "not-a-token",
        lambda t: "x" * 2000,
    ],
    ids=["signature", "payload", "truncated", "garbage", "huge"],
)
def test_a_tampered_or_garbled_token_is_refused_with_400(client, token, mangle):
    page = client.get(f"/intake/{mangle(token)}")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "This link is not valid" in html
    assert "Ada" not in html and "Northside" not in html


def _forge(app, data: dict) -> str:
    with app.app_context():
        serializer = URLSafeTimedSerializer(
            app.config["SECRET_KEY"],
            salt="intake-link",
            serializer_kwargs={"ensure_ascii": True},  # so a lone surrogate can be signed too
        )
        return serializer.dumps(data)


def test_a_correctly_signed_token_with_a_wrong_secret_is_refused(app, client, token):
    with app.app_context():
        data = intake._serializer().loads(token)
    forged = _forge(app, {**data, "s": "guessed-secret"})
    page = client.get(f"/intake/{forged}")
    assert page.status_code == 400
    assert "This link is not valid" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "secret", ["\ud800", "\udcff" * 40, "caf\u00e9", "a\x00b", "", "x" * 400, "secret with spaces"]
)
def test_a_correctly_signed_token_with_a_malformed_secret_is_refused(app, client, token, secret):
    with app.app_context():
        data = intake._serializer().loads(token)
    forged = _forge(app, {**data, "s": secret})
    page = client.get(f"/intake/{forged}")
    assert page.status_code == 400
    assert "This link is not valid" in page.get_data(as_text=True)
    posted = client.post_form(f"/intake/{forged}", {"template_version": "1"})
    assert posted.status_code == 400
    assert "This link is not valid" in posted.get_data(as_text=True)


def test_a_token_naming_another_clinics_link_is_refused(app, client, token, clinic_b):
    with app.app_context():
        data = intake._serializer().loads(token)
    forged = _forge(app, {**data, "c": clinic_b.clinic_id.hex})
    page = client.get(f"/intake/{forged}")
    assert page.status_code == 400
    assert "Ada" not in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "data",
    [
        {"c": "nope", "l": "nope", "s": "x"},
        {"c": "0" * 32, "l": "0" * 32, "s": "x"},
        ["a", "list"],
        {"c": 1, "l": 2, "s": 3},
    ],
)
def test_a_signed_token_with_a_bad_payload_is_refused(app, client, data):
    page = client.get(f"/intake/{_forge(app, data)}")
    assert page.status_code == 400


def test_a_token_signed_with_another_key_is_refused(app, client, token):
    with app.app_context():
        data = intake._serializer().loads(token)
    other = URLSafeTimedSerializer("another-secret-key-of-some-length", salt="intake-link")
    page = client.get(f"/intake/{other.dumps(data)}")
    assert page.status_code == 400


def test_an_expired_link_is_refused_with_410_and_the_clinic_to_ask(app, client, schedule, token):
    def expire():
        link = db.session.scalars(select(IntakeLink)).one()
        link.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()

    with_clinic(app, schedule.clinic_id, expire)
    page = client.get(f"/intake/{token}")
    assert page.status_code == 410
    html = page.get_data(as_text=True)
    assert "This link has expired. Ask Northside Sports Massage for a new one." in html
    assert "Ada" not in html
    assert client.post_form(f"/intake/{token}", good_form()).status_code == 410
    assert responses(app, schedule.clinic_id) == []


class _EightDaysAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 8 * 24 * 3600


def test_a_token_older_than_its_max_age_is_expired_whatever_the_row_says(app, client, token):
    with app.app_context():
        data = intake._serializer().loads(token)
        old = URLSafeTimedSerializer(
            app.config["SECRET_KEY"], salt="intake-link", signer=_EightDaysAgo
        ).dumps(data)
    page = client.get(f"/intake/{old}")
    assert page.status_code == 410
    assert "has expired" in page.get_data(as_text=True)


def test_a_desk_link_lasts_minutes_and_an_email_link_days(app, schedule):
    def links():
        client = tenancy.find(Client, schedule.client_id)
        desk, _ = intake.create_link(client, "desk", None)
        email, _ = intake.create_link(client, "email", None)
        return desk.expires_at - desk.created_at, email.expires_at - email.created_at

    desk_age, email_age = with_clinic(app, schedule.clinic_id, links)
    assert desk_age == timedelta(minutes=120)
    assert email_age == timedelta(days=7)


# Submitting -------------------------------------------------------------------------------------


def test_a_signed_form_is_stored_with_its_flags_and_closes_the_link(app, client, schedule, token):
    before = utcnow()
    page = client.post_form(f"/intake/{token}", good_form(signed_at="1999-01-01"))
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    assert "Thank you, Ada" in html
    assert "left calf" not in html  # no answers on the thank-you page
    assert page.headers["Referrer-Policy"] == "no-referrer"

    def check():
        response = db.session.scalars(select(IntakeResponse)).one()
        assert response.client_id == schedule.client_id
        assert response.template_id == current_template().id
        assert response.has_flags is True
        assert response.flags == [
            {
                "level": "local",
                "code": "varicose_veins",
                "label": "Varicose veins",
                "site": "left calf",
                "detail": None,
            }
        ]
        assert response.answers["injuries"] == [{"site": "left calf", "since": "March", "pain": 4}]
        assert response.signed_name == "Ada Runner"
        assert response.signed_at >= before  # set by the server, never from the form
        assert response.submitted_via == "email"
        assert response.ip_address == "127.0.0.1"
        link = db.session.scalars(select(IntakeLink)).one()
        assert link.used_at is not None and response.link_id == link.id
        event = db.session.scalars(select(AuditEvent)).one()
        assert event.action == "intake.submit"
        assert event.actor == "Client (intake link)"
        assert event.client_id == schedule.client_id
        assert event.subject_type == "intake_response" and event.subject_id == response.id

    with_clinic(app, schedule.clinic_id, check)


def test_a_link_works_once(app, client, schedule, token):
    assert client.post_form(f"/intake/{token}", good_form()).status_code == 200
    again = client.post_form(f"/intake/{token}", good_form(**{"q-goals": "Changed"}))
    assert again.status_code == 410
    assert "already been submitted" in again.get_data(as_text=True)
    assert client.get(f"/intake/{token}").status_code == 410
    stored = responses(app, schedule.clinic_id)
    assert len(stored) == 1 and stored[0].answers["goals"] == "Stay injury-free"


def test_submitting_closes_the_clients_other_open_links(app, client, schedule, token):
    desk = make_link(app, schedule.clinic_id, schedule.client_id, "desk")
    assert client.post_form(f"/intake/{desk}", good_form()).status_code == 200
    assert client.get(f"/intake/{token}").status_code == 410
    events = with_clinic(
        app, schedule.clinic_id, lambda: db.session.scalars(select(AuditEvent.actor)).all()
    )
    assert events == ["Client (at the desk)"]


def test_a_form_posted_against_an_old_version_is_refused_with_409_and_refilled(
    app, client, schedule, token
):
    page = client.get(f"/intake/{token}")
    assert 'name="template_version" value="1"' in page.get_data(as_text=True)

    def publish_v2():
        v1 = current_template()
        questions = [dict(q) for q in v1.questions if q["key"] != "upcoming_events"]
        questions.append(
            {
                "key": "pressure",
                "label": "Preferred pressure",
                "kind": "choice",
                "section": "Activity and goals",
                "required": True,
                "locked": False,
                "options": ["Light", "Medium", "Firm"],
            }
        )
        publish("Intake v2", questions, DEFAULT_CONSENT)
        db.session.commit()

    with_clinic(app, schedule.clinic_id, publish_v2)
    stale = client.post_form(f"/intake/{token}", good_form(version=1))
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "The form changed while you were filling it in" in html
    assert 'name="template_version" value="2"' in html
    assert "Preferred pressure" in html
    assert "Running, 40 km a week" in html  # the answers that still fit are kept
    assert 'value="left calf"' in html
    assert 'id="consent" name="consent" value="1" checked' not in html  # sign again
    assert responses(app, schedule.clinic_id) == []
    fresh = client.post_form(f"/intake/{token}", good_form(version=2, **{"q-pressure": "Firm"}))
    assert fresh.status_code == 200
    (stored,) = responses(app, schedule.clinic_id)
    assert stored.answers["pressure"] == "Firm"
    assert "upcoming_events" not in stored.answers


def test_invalid_answers_are_shown_again_with_400_and_nothing_stored(app, client, schedule, token):
    page = client.post_form(
        f"/intake/{token}",
        good_form(
            **{
                "q-contraindications-site-varicose_veins": "",
                "q-injuries-1-pain": "11",
                "q-goals": "Keep me running",
                "consent": None,
            }
        ),
    )
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "Varicose veins: where?" in html
    assert "Line 1: rate the pain" in html
    assert "Tick the box to confirm" in html
    assert "Keep me running" in html
    assert 'value="varicose_veins"\n                 data-checklist-code checked' in html
    assert responses(app, schedule.clinic_id) == []
    assert client.get(f"/intake/{token}").status_code == 200  # the link still works


def test_oversized_answers_are_refused_with_400(app, client, schedule, token):
    huge = good_form(**{"q-activity": "x" * 1990, "q-goals": "y" * 1990})
    for n in range(1, 4):
        huge[f"q-injuries-{n}-site"] = "s" * 120
        huge[f"q-injuries-{n}-since"] = "March"
        huge[f"q-injuries-{n}-pain"] = "3"
    huge["q-other_medications"] = "z" * 50_000
    page = client.post_form(f"/intake/{token}", huge)
    assert page.status_code == 400
    assert "at most 2000 characters (this has 50000)" in page.get_data(as_text=True)
    assert responses(app, schedule.clinic_id) == []


def _make_client(app, schedule, **values):
    """Change the schedule's client (Ada Runner); `parent` adds Jo Runner as her guardian."""

    def change():
        client = tenancy.find(Client, schedule.client_id)
        if values.pop("parent", False):
            parent = Client(first_name="Jo", last_name="Runner", email="jo@example.com")
            db.session.add(parent)
            db.session.flush()
            client.guardian_id = parent.id
        for name, value in values.items():
            setattr(client, name, value)
        db.session.commit()

    with_clinic(app, schedule.clinic_id, change)


def test_a_minor_needs_a_parent_or_guardian_to_sign(app, client, schedule, token):
    twelve = datetime.now(UTC).date() - timedelta(days=365 * 12)
    _make_client(app, schedule, date_of_birth=twelve, parent=True)
    page = client.get(f"/intake/{token}").get_data(as_text=True)
    assert "Ada is under 18, so a parent or guardian must sign." in page
    assert 'data-testid="guardian-option"' in page
    refused = client.post_form(f"/intake/{token}", good_form())
    assert refused.status_code == 400
    assert "a parent or guardian must sign" in refused.get_data(as_text=True)
    # The box ticked, but the child's own name, or anyone else's: not the parent on record.
    for name in ("Ada Runner", "Mickey Mouse"):
        refused = client.post_form(f"/intake/{token}", good_form(guardian="1", signed_name=name))
        assert refused.status_code == 400
        text = refused.get_data(as_text=True)
        assert "parent or guardian the clinic has on record for Ada" in text
        assert "Jo Runner" not in text  # the name on record is never shown
    assert responses(app, schedule.clinic_id) == []
    signed = client.post_form(f"/intake/{token}", good_form(guardian="1", signed_name="jo  RUNNER"))
    assert signed.status_code == 200
    (stored,) = responses(app, schedule.clinic_id)
    assert stored.signed_by_guardian is True and stored.signed_name == "jo RUNNER"


def test_a_minor_with_no_parent_on_record_cannot_be_signed_for_by_anyone(
    app, client, schedule, token
):
    _make_client(app, schedule, date_of_birth=datetime.now(UTC).date() - timedelta(days=4000))
    refused = client.post_form(f"/intake/{token}", good_form(guardian="1", signed_name="Jo Runner"))
    assert refused.status_code == 400
    assert "Ada has no parent or guardian on record yet" in refused.get_data(as_text=True)
    assert responses(app, schedule.clinic_id) == []


@pytest.mark.parametrize("name", ["Mickey Mouse", "Ada", "Ada Runnerr", "Jo Runner"])
def test_an_adult_signs_with_her_own_name_only(app, client, schedule, token, name):
    _make_client(app, schedule, date_of_birth=date(1990, 5, 1), parent=True)
    page = client.get(f"/intake/{token}").get_data(as_text=True)
    assert 'data-testid="guardian-option"' not in page  # an adult by date of birth
    # A forged guardian tick changes nothing: she signs for herself.
    refused = client.post_form(f"/intake/{token}", good_form(guardian="1", signed_name=name))
    assert refused.status_code == 400
    assert "Type your full name (first and last name) as the clinic has it" in (
        refused.get_data(as_text=True)
    )
    assert responses(app, schedule.clinic_id) == []


@pytest.mark.parametrize(
    "name", ["Ada Runner", "  ada   runner ", "ADA RUNNER", "Áda Rünner", "Ada Runner\t"]
)
def test_the_name_matches_ignoring_case_accents_and_extra_spaces(
    app, client, schedule, token, name
):
    signed = client.post_form(f"/intake/{token}", good_form(signed_name=name, guardian="1"))
    assert signed.status_code == 200, signed.get_data(as_text=True)
    (stored,) = responses(app, schedule.clinic_id)
    assert stored.signed_by_guardian is False  # no date of birth, no parent: no guardian option


def test_accents_and_curly_apostrophes_in_the_record_match_plain_typing(
    app, client, schedule, token
):
    _make_client(app, schedule, first_name="Jamie", last_name="O\u2019Bri\u00e9n")
    page = client.post_form(f"/intake/{token}", good_form(signed_name="Mickey Mouse"))
    assert page.status_code == 400
    assert "only Jamie can sign this form" in page.get_data(as_text=True)
    signed = client.post_form(f"/intake/{token}", good_form(signed_name="jamie o'brien"))
    assert signed.status_code == 200


def test_without_a_date_of_birth_a_linked_parent_or_the_client_may_sign(app, client, schedule):
    _make_client(app, schedule, parent=True)
    token = make_link(app, schedule.clinic_id, schedule.client_id)
    page = client.get(f"/intake/{token}").get_data(as_text=True)
    assert 'data-testid="guardian-option"' in page and "is under 18" not in page
    refused = client.post_form(
        f"/intake/{token}", good_form(guardian="1", signed_name="Ada Runner")
    )
    assert refused.status_code == 400
    signed = client.post_form(f"/intake/{token}", good_form(guardian="1", signed_name="Jo Runner"))
    assert signed.status_code == 200
    (stored,) = responses(app, schedule.clinic_id)
    assert stored.signed_by_guardian is True
    other = make_link(app, schedule.clinic_id, schedule.client_id)
    assert client.post_form(f"/intake/{other}", good_form()).status_code == 200  # Ada herself


def test_submit_itself_refuses_a_name_that_is_not_the_clients(app, schedule):
    token = make_link(app, schedule.clinic_id, schedule.client_id)

    def attempt():
        link = intake.open_link(token)
        template = current_template()
        with pytest.raises(intake.IntakeError, match="only Ada can sign"):
            clinic = db.session.get(Clinic, link.clinic_id)
            intake.submit(link, template, {}, "Mickey Mouse", False, None, clinic=clinic)

    with_clinic(app, schedule.clinic_id, attempt)


def test_script_bearing_answers_are_stored_as_typed_and_shown_escaped(app, client, schedule, token):
    script = "<script>alert('x')</script>"
    page = client.post_form(
        f"/intake/{token}", good_form(**{"q-goals": script, "q-upcoming_events": "x" * 201})
    )
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert script not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert client.post_form(f"/intake/{token}", good_form(**{"q-goals": script})).status_code == 200
    (stored,) = responses(app, schedule.clinic_id)
    assert stored.answers["goals"] == script


def test_a_missing_csrf_token_is_refused(app, client, token, schedule):
    page = client.post(f"/intake/{token}", data={**good_form(), "csrf_token": "nope"})
    assert page.status_code == 400
    assert responses(app, schedule.clinic_id) == []


def test_posting_is_rate_limited_per_address(app, client, token, schedule):
    limit = int(app.config["FORM_LIMIT_PER_ADDRESS"].split()[0])
    statuses = [
        client.post_form(f"/intake/{token}", good_form(consent=None)).status_code
        for _ in range(limit + 1)
    ]
    assert statuses[:limit] == [400] * limit
    assert statuses[-1] == 429
    assert responses(app, schedule.clinic_id) == []


def test_a_second_link_opened_together_stores_one_response_per_submission(
    app, client, schedule, token
):
    other = make_link(app, schedule.clinic_id, schedule.client_id)
    assert client.post_form(f"/intake/{other}", good_form()).status_code == 200
    assert client.post_form(f"/intake/{token}", good_form()).status_code == 410
    count = with_clinic(
        app,
        schedule.clinic_id,
        lambda: db.session.scalar(select(func.count()).select_from(IntakeResponse)),
    )
    assert count == 1


def test_an_erased_client_link_no_longer_opens(app, client, schedule, token):
    def erase():
        tenancy.find(Client, schedule.client_id).erased_at = utcnow()
        db.session.commit()

    with_clinic(app, schedule.clinic_id, erase)
    page = client.get(f"/intake/{token}")
    assert page.status_code == 400
    assert "Ada" not in page.get_data(as_text=True)
