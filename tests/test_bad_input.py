"""Input no person means to type: refused with a clear message and a 4xx, never a 500, and
nothing stored.

Run these on PostgreSQL too (TEST_DATABASE_URL): it refuses a NUL character outright, where
SQLite stores it.
"""

from __future__ import annotations

from datetime import date

import pytest
import wtforms
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from clinic_saas import mail, tenancy
from clinic_saas.blueprints.forms import BaseForm, OneClickForm, RowForm
from clinic_saas.extensions import db
from clinic_saas.models import (
    Category,
    Clinic,
    DayOverride,
    Invitation,
    Location,
    MembershipPlan,
    PriceTier,
    Room,
    Shift,
    TaxRate,
    Therapist,
    TimeOff,
)
from clinic_saas.refusals import Refusal
from clinic_saas.scheduling import roster_admin

from .factories import build_schedule

NUL_MESSAGE = "NUL character"
MENU = "/c/northside/menu"
SITES = "/c/northside/settings/locations/"


def _in_clinic(app, clinic_fixture, work):
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            return work()


def _count(app, clinic_fixture, model) -> int:
    return _in_clinic(app, clinic_fixture, lambda: db.session.scalar(select(func.count(model.id))))


def _clinic_name(app, clinic_fixture) -> str:
    with app.app_context():
        return db.session.get(Clinic, clinic_fixture.clinic_id).name


# A NUL character ----------------------------------------------------------------------------------


def test_a_nul_in_the_login_form_is_refused_without_an_account(client, clinic_a):
    for email in ("ada\x00@example.com", clinic_a.email("owner") + "\x00"):
        response = client.post_form("/login", {"email": email, "password": "x\x00y"})
        assert response.status_code == 400
        assert NUL_MESSAGE in response.get_data(as_text=True)
    assert client.get("/c/northside/").status_code == 302  # still logged out


def _named_forms(schedule, name="Bad\x00name") -> list[tuple[str, dict, type]]:
    """(url, form with this name, model it would add to) for each kind of named thing."""
    return [
        (f"{MENU}/categories", {"name": name}, Category),
        (f"{MENU}/tax-rates", {"name": name, "treatment": "standard", "rate": "20"}, TaxRate),
        (f"{MENU}/tiers", {"name": name}, PriceTier),
        (
            SITES + "new",
            {"name": name, "address": "1 Harbour St", "phone": "0161 000", "active": "y"},
            Location,
        ),
        (f"{SITES}{schedule.location_id}/rooms", {"room-name": name}, Room),
        (
            "/c/northside/staff/therapists/new",
            {"display_name": name, "calendar_colour": "indigo", "active": "y"},
            Therapist,
        ),
        (
            f"{MENU}/offers/plans/new",
            {
                "name": name,
                "price": "55",
                "sessions_per_period": "1",
                "services": [str(schedule.service_id)],
                "active": "y",
            },
            MembershipPlan,
        ),
    ]


def test_a_nul_in_any_name_is_refused_and_nothing_is_stored(app, client, auth, clinic_a):
    schedule = build_schedule(app, clinic_a)
    auth.login_as("owner", clinic_a)
    for url, form, model in _named_forms(schedule):
        before = _count(app, clinic_a, model)
        response = client.post_form(url, form)
        assert response.status_code == 400, url
        assert NUL_MESSAGE in response.get_data(as_text=True), url
        assert _count(app, clinic_a, model) == before, url


def test_a_nul_in_the_clinic_settings_is_refused(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    form = {
        "clinic_name": "North\x00side",
        "timezone": "Europe/London",
        "currency": "GBP",
        "country": "GB",
        "retention_years": "8",
        "intake_valid_months": "12",
    }
    response = client.post_form("/c/northside/settings/", form)
    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)
    assert _clinic_name(app, clinic_a) == clinic_a.name


@pytest.mark.parametrize(
    "url",
    [
        "/c/%00/",
        "/c/northside%00/menu/",
        "/c/northside/clients/?q=Ada%00",
        "/c/northside/clients/?%00=1",
        "/login?next=/c/%00/",
    ],
)
def test_a_nul_in_the_address_is_refused(client, auth, clinic_a, url):
    auth.login_as("owner", clinic_a)
    response = client.get(url)
    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)


def test_a_nul_in_the_address_is_refused_before_login_too(client, clinic_a):
    response = client.get("/c/%00/")
    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)


# Numbers and dates out of all proportion ---------------------------------------------------------

HUGE = "9" * 40


@pytest.mark.parametrize("typed", [HUGE, HUGE + ".5", "1" + "0" * 400, "-" + HUGE])
def test_a_huge_tax_rate_is_refused_beside_its_field(app, client, auth, clinic_a, typed):
    auth.login_as("owner", clinic_a)
    response = client.post_form(
        f"{MENU}/tax-rates", {"name": "VAT", "treatment": "standard", "rate": typed}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "A tax rate is at most 100%." in page or "cannot be negative" in page
    assert _count(app, clinic_a, TaxRate) == 0


@pytest.mark.parametrize("typed", [HUGE, HUGE + ".25", "-" + HUGE])
def test_a_huge_commission_is_refused_beside_its_field(app, client, auth, clinic_a, typed):
    auth.login_as("owner", clinic_a)
    response = client.post_form(
        "/c/northside/staff/therapists/new",
        {
            "display_name": "Tom Turner",
            "calendar_colour": "indigo",
            "commission_percent": typed,
            "active": "y",
        },
    )
    assert response.status_code == 400
    assert "Enter a percentage from 0 to 100" in response.get_data(as_text=True)
    assert _count(app, clinic_a, Therapist) == 0


def _shift_dates(app, clinic_fixture, shift_id):
    def read():
        shift = tenancy.find(Shift, shift_id)
        return shift.valid_from, shift.valid_until

    return _in_clinic(app, clinic_fixture, read)


@pytest.mark.parametrize("typed", ["0001-01-01", "1999-12-31", "9999-12-31"])
def test_ending_a_shift_from_a_day_out_of_the_calendar_is_refused(
    app, client, auth, clinic_a, typed
):
    schedule = build_schedule(app, clinic_a)
    shift_id = schedule.shift_ids[0]
    before = _shift_dates(app, clinic_a, shift_id)
    auth.login_as("owner", clinic_a)
    response = client.post_form(
        f"/c/northside/roster/shifts/{shift_id}/end", {f"s{shift_id.hex}-stop_from": typed}
    )
    assert response.status_code == 400
    assert "Choose a date between 2000 and 2099." in response.get_data(as_text=True)
    assert _shift_dates(app, clinic_a, shift_id) == before


def test_a_weekly_shift_ended_from_the_first_possible_day_is_removed(app, clinic_a):
    """The domain itself copes with the earliest date there is (no day before it to end on)."""
    schedule = build_schedule(app, clinic_a)

    def end():
        shift = tenancy.find(Shift, schedule.shift_ids[0])
        kept = roster_admin.end_weekly_shift(shift, date.min)
        return kept, tenancy.find(Shift, schedule.shift_ids[0])

    assert _in_clinic(app, clinic_a, end) == (None, None)


ROSTER = "/c/northside/roster/"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (
            {
                "shift-weekdays": ["5"],
                "shift-start": "10:00",
                "shift-end": "14:00",
                "shift-valid_from": "0001-01-01",
            },
            "shift-valid_from",
        ),
        (
            {
                "shift-weekdays": ["5"],
                "shift-start": "10:00",
                "shift-end": "14:00",
                "shift-valid_from": "2031-03-03",
                "shift-valid_until": "9999-12-31",
            },
            "shift-valid_until",
        ),
        ({"day-day": "0001-01-01", "day-not_working": "y"}, "day-day"),
        (
            {
                "off-kind": "holiday",
                "off-whole_days": "y",
                "off-first_day": "0001-01-01",
                "off-last_day": "0001-01-02",
            },
            "off-first_day",
        ),
        (
            {
                "off-kind": "holiday",
                "off-whole_days": "y",
                "off-first_day": "2031-03-03",
                "off-last_day": "9999-12-31",
            },
            "off-last_day",
        ),
    ],
)
def test_roster_dates_out_of_the_calendar_are_refused(app, client, auth, clinic_a, form, field):
    schedule = build_schedule(app, clinic_a)
    prefix = field.split("-")[0]
    form = {
        f"{prefix}-therapist": str(schedule.therapist_id),
        f"{prefix}-location": str(schedule.location_id),
        **form,
    }
    url = {"shift": "shifts", "day": "days", "off": "time-off"}[prefix]
    auth.login_as("owner", clinic_a)
    counts = [_count(app, clinic_a, model) for model in (Shift, DayOverride, TimeOff)]
    response = client.post_form(ROSTER + url, form)
    assert response.status_code == 400
    assert "Choose a date between 2000 and 2099." in response.get_data(as_text=True)
    assert [_count(app, clinic_a, model) for model in (Shift, DayOverride, TimeOff)] == counts


# Line breaks and other control characters in one-line fields -------------------------------------

ONE_LINE = "Keep this to one line: no line breaks, tabs or other control characters."
BROKEN_NAMES = ["Bad\nname", "Bad\r\nname", "Bad\tname", "Bad\x1bname", "Bad\u2028name"]


@pytest.mark.parametrize("name", BROKEN_NAMES)
def test_a_line_break_in_any_name_is_refused_beside_it(app, client, auth, clinic_a, name):
    schedule = build_schedule(app, clinic_a)
    auth.login_as("owner", clinic_a)
    for url, form, model in _named_forms(schedule, name):
        before = _count(app, clinic_a, model)
        response = client.post_form(url, form)
        assert response.status_code == 400, url
        assert ONE_LINE in response.get_data(as_text=True), url
        assert _count(app, clinic_a, model) == before, url


def _settings_form(**changes) -> dict:
    return {
        "clinic_name": "Northside Sports Massage",
        "timezone": "Europe/London",
        "currency": "GBP",
        "country": "GB",
        "retention_years": "8",
        "intake_valid_months": "12",
        "address": "12 Harbour Street\nManchester",
        **changes,
    }


@pytest.mark.parametrize("name", BROKEN_NAMES)
def test_a_line_break_in_the_clinics_name_is_refused_and_mail_keeps_working(
    app, client, auth, clinic_a, outbox, name
):
    auth.login_as("owner", clinic_a)
    response = client.post_form("/c/northside/settings/", _settings_form(clinic_name=name))
    assert response.status_code == 400
    assert ONE_LINE in response.get_data(as_text=True)
    assert _clinic_name(app, clinic_a) == clinic_a.name

    invited = client.post_form(
        "/c/northside/staff/invite", {"email": "new@example.com", "role": "receptionist"}
    )
    assert invited.status_code == 302
    assert outbox()[-1].subject == f"You're invited to join {clinic_a.name} on clinic_saas"


def test_an_address_keeps_its_lines(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    assert client.post_form("/c/northside/settings/", _settings_form()).status_code == 302
    with app.app_context():
        assert db.session.get(Clinic, clinic_a.clinic_id).address.splitlines() == [
            "12 Harbour Street",
            "Manchester",
        ]


def test_a_line_break_in_a_new_clinics_name_is_refused_at_signup(app, client):
    response = client.post_form(
        "/signup",
        {
            "name": "Sam\nSprinter",
            "email": "sam@fastlane.example",
            "password": "a-long-enough-password",
            "clinic_name": "Fast Lane\nSports Massage",
            "slug": "fast-lane",
            "timezone": "Europe/London",
            "currency": "GBP",
            "country": "GB",
        },
    )
    assert response.status_code == 400
    assert response.get_data(as_text=True).count(ONE_LINE) == 2
    with app.app_context():
        assert db.session.scalar(select(func.count(Clinic.id))) == 0


def test_mail_refuses_a_line_break_in_a_header_cleanly(app, client, auth, clinic_a, outbox):
    """A name stored before names were kept to one line: the email naming it is refused with a
    message (400), and the invitation it announced is not kept."""
    with app.app_context():
        db.session.get(Clinic, clinic_a.clinic_id).name = "Northside\nSports Massage"
        db.session.commit()
    auth.login_as("owner", clinic_a)
    response = client.post_form(
        "/c/northside/staff/invite", {"email": "new@example.com", "role": "receptionist"}
    )
    assert response.status_code == 400
    assert "This email could not be sent" in response.get_data(as_text=True)
    assert outbox() == []
    assert _count(app, clinic_a, Invitation) == 0


def test_mail_refuses_a_line_break_in_its_subject_or_address(app):
    with app.test_request_context():
        for to, subject in [("a@example.com", "Hello\nBcc: b@example.com"), ("a@ex\r.com", "Hi")]:
            with pytest.raises(Refusal, match="This email could not be sent"):
                mail.send(to, subject, "account_exists", user=None)


def _form_classes() -> list[type]:
    """Every form class of clinic_saas (all blueprints are imported by create_app)."""
    found, todo = [], [wtforms.Form]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("clinic_saas."):
            found.append(cls)
    return found


def _misses_one_line_check(cls: type) -> bool:
    return not issubclass(cls, BaseForm | RowForm)


def test_every_form_keeps_one_line_fields_to_one_line(app):
    forms = _form_classes()
    assert len(forms) > 40
    assert [cls for cls in forms if _misses_one_line_check(cls)] == []


def test_a_form_outside_the_base_is_caught():
    class Stray(FlaskForm):
        name = wtforms.StringField()

    class Row(wtforms.Form):
        name = wtforms.StringField()

    assert _misses_one_line_check(Stray) and _misses_one_line_check(Row)
    assert not _misses_one_line_check(OneClickForm)


# Addresses as a browser sends them ---------------------------------------------------------------

TYPED_ADDRESS = "  12  Harbour Street \r\n\r\n\tManchester\r\nM1 1AA  \r\n"


def test_a_clinic_address_is_kept_as_clean_lines_and_shown_on_one_line(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    saved = client.post_form("/c/northside/settings/", _settings_form(address=TYPED_ADDRESS))
    assert saved.status_code == 302
    with app.app_context():
        address = db.session.get(Clinic, clinic_a.clinic_id).address
    assert address == "12 Harbour Street\nManchester\nM1 1AA"
    menu = client.get("/clinics/northside/menu").get_data(as_text=True)
    assert "12 Harbour Street, Manchester, M1 1AA" in menu


def test_a_site_address_is_kept_as_clean_lines(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    form = {"name": "Harbour St", "address": TYPED_ADDRESS, "phone": "0161 000", "active": "y"}
    assert client.post_form(SITES + "new", form).status_code == 302
    site = _in_clinic(app, clinic_a, lambda: db.session.scalar(select(Location)))
    assert site.address == "12 Harbour Street\nManchester\nM1 1AA"


# Messages in our own words -----------------------------------------------------------------------

WTFORMS_WORDING = ("Field must", "Field cannot", "Number must", "This field is required")


def test_a_form_says_its_length_range_and_required_messages_in_plain_words(
    app, client, auth, clinic_a
):
    auth.login_as("owner", clinic_a)
    response = client.post_form(
        "/c/northside/settings/",
        _settings_form(clinic_name="N", retention_years="0", phone="0" * 41),
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Use 2 to 120 characters." in page
    assert "Enter a number from 1 to 100." in page
    assert "Use at most 40 characters." in page
    assert not any(wording in page for wording in WTFORMS_WORDING)


def test_a_required_field_says_fill_this_in(client):
    response = client.post_form("/login", {"email": "", "password": ""})
    page = response.get_data(as_text=True)
    assert page.count("Fill this in.") == 2
    assert not any(wording in page for wording in WTFORMS_WORDING)


class _Row(RowForm):
    code = wtforms.StringField(validators=[wtforms.validators.Length(min=1, max=1)])
    note = wtforms.StringField(validators=[wtforms.validators.Length(max=3)])
    count = wtforms.IntegerField(validators=[wtforms.validators.NumberRange(min=1)])


def test_rows_inside_a_form_say_it_the_same_way():
    row = _Row(MultiDict({"code": "ab", "note": "abcd", "count": "0"}))
    assert not row.validate()
    assert row.errors == {
        "code": ["Use exactly 1 character."],
        "note": ["Use at most 3 characters."],
        "count": ["Enter a number of at least 1."],
    }


def test_a_message_given_to_a_validator_is_kept():
    class Named(RowForm):
        name = wtforms.StringField(validators=[wtforms.validators.Length(max=2, message="Short!")])

    form = Named(MultiDict({"name": "abc"}))
    assert not form.validate() and form.errors == {"name": ["Short!"]}
