"""A client fills in the intake from the emailed link on their own device; the red flag it
raises reaches the therapist's day view, where the therapist acknowledges it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from playwright.sync_api import Page, expect

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import Clinic, IntakeResponse, Role, Therapist
from tests.conftest import PASSWORD, link_in
from tests.factories import add_appointment, add_intake, build_schedule

pytestmark = pytest.mark.browser

FLAG_TEXT = "Absolute: no treatment today (Acute injury less than 72 hours old), reported on "
LAPSED_TEXT = "Acute injury less than 72 hours old (right ankle), reported on "


def _a_weekday_ahead() -> date:
    day = datetime.now(UTC).date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/c/northside/")


def test_client_signs_the_emailed_intake_and_the_therapist_acknowledges_its_red_flag(
    new_page, app, clinic_a, outbox
):
    schedule = build_schedule(app, clinic_a)
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            therapist = tenancy.find(Therapist, schedule.therapist_id)
            therapist.membership_id = clinic_a.member_ids[Role.THERAPIST]
            db.session.commit()
    day = _a_weekday_ahead()
    starts = datetime.combine(day, time(11), tzinfo=UTC)
    add_appointment(app, schedule, starts)

    # The desk emails the intake link from the client's page.
    desk = new_page()
    _log_in(desk, clinic_a.email("receptionist"))
    desk.goto(f"/c/northside/clients/{schedule.client_id}")
    expect(desk.get_by_test_id("intake-panel-state")).to_have_text("No intake on file")
    desk.get_by_role("button", name="Email intake link").click()
    expect(desk.get_by_test_id("intake-link-open")).to_contain_text("ada@example.com")
    [message] = outbox()
    assert message.to == "ada@example.com"
    link = link_in(message, "/intake/")

    # The client, on another device with no account, fills in and signs the form.
    phone = new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(link)
    expect(phone.get_by_test_id("intake-intro")).to_contain_text("Ada")
    phone.locator("#q-activity").fill("Running, 50 km a week")
    phone.locator("#q-goals").fill("Get back to racing")
    phone.locator("#q-medical_history-no").check()
    phone.locator("#q-surgery-no").check()
    phone.locator("#q-contraindications-code-acute_injury").check()
    phone.locator("#q-contraindications-site-acute_injury").fill("right ankle")
    phone.locator("#q-medications-none").check()
    phone.locator("#consent").check()
    phone.locator("#signed_name").fill("Ada Runner")
    phone.get_by_test_id("intake-submit").click()
    expect(phone.get_by_test_id("intake-thanks")).to_be_visible()
    expect(phone.get_by_text("right ankle")).to_have_count(0)  # no answers echoed back

    # The link works once.
    phone.goto(link)
    expect(phone.get_by_test_id("intake-problem")).to_contain_text("already been submitted")

    # The desk sees that a flag exists, never what it is.
    desk.goto(f"/c/northside/appointments/?date={day.isoformat()}")
    row = desk.get_by_test_id("appointment").filter(has_text="Ada Runner")
    expect(row.get_by_test_id("red-flag")).to_be_visible()
    expect(row.get_by_test_id("flag-line")).to_have_count(0)
    expect(row.get_by_test_id("acknowledge")).to_have_count(0)

    # The therapist sees the flag on the day view and acknowledges it.
    tom = new_page()
    _log_in(tom, clinic_a.email("therapist"))
    tom.goto(f"/c/northside/appointments/?date={day.isoformat()}")
    row = tom.get_by_test_id("appointment").filter(has_text="Ada Runner")
    # An acute injury is current for 72 hours after the intake reported it, then to reassess.
    if starts < datetime.now(UTC) + timedelta(hours=71):
        expect(row.get_by_test_id("flag-line")).to_contain_text(FLAG_TEXT)
    elif starts > datetime.now(UTC) + timedelta(hours=73):
        expect(row.get_by_test_id("flag-line")).to_contain_text(LAPSED_TEXT)
    expect(row.get_by_test_id("flag-line")).to_have_attribute("data-level", "absolute")
    row.get_by_test_id("acknowledge").click()
    tom.wait_for_url(re.compile(r"/appointments/\?date="))
    row = tom.get_by_test_id("appointment").filter(has_text="Ada Runner")
    expect(row.get_by_test_id("acknowledged")).to_contain_text("Acknowledged by")
    expect(row.get_by_test_id("acknowledge")).to_have_count(0)

    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            [response] = db.session.scalars(db.select(IntakeResponse)).all()
            assert response.signed_name == "Ada Runner"
            assert response.flags[0]["site"] == "right ankle"


def test_the_desk_books_a_client_with_an_absolute_red_flag_and_is_warned_without_detail(
    page: Page, app, clinic_a
):
    schedule = build_schedule(app, clinic_a)
    add_intake(
        app, schedule, codes=("haemophilia", "varicose_veins"), sites={"varicose_veins": "calf"}
    )
    day = _a_weekday_ahead()

    _log_in(page, clinic_a.email("receptionist"))
    page.goto(f"/c/northside/appointments/new?service={schedule.service_id}&date={day}")
    tom = page.get_by_test_id("slot-group").filter(has_text="Tom Turner")
    tom.get_by_role("link", name="10:00", exact=True).click()
    page.wait_for_url(re.compile(r"slot="))
    search = page.get_by_test_id("client-search")
    search.get_by_label("Name, email or phone").fill("Ada")
    search.get_by_role("button", name="Search").click()
    page.get_by_test_id("client-matches").get_by_label(re.compile("Ada Runner")).check()
    page.get_by_role("button", name="Book appointment").click()

    page.wait_for_url(re.compile(rf"/c/northside/appointments/\?date={day.isoformat()}$"))
    expect(page.get_by_text("Booked Ada Runner with Tom Turner")).to_be_visible()
    warning = page.get_by_role("alert").filter(has_text="red flag")
    expect(warning).to_have_text(
        "This client has a red flag: the therapist must review it before treatment."
    )
    body = page.locator("body")
    for secret in ("Haemophilia", "bleeding", "Varicose", "calf", "no treatment today"):
        expect(body).not_to_contain_text(secret)
    row = page.get_by_test_id("appointment").filter(has_text="Ada Runner")
    expect(row.get_by_test_id("red-flag")).to_be_visible()
    expect(row.get_by_test_id("flag-line")).to_have_count(0)
