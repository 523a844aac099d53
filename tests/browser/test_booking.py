"""The front desk books a new client in Chromium, from the day view back to the day view."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.clients import create_client
from clinic_saas.extensions import db
from clinic_saas.models import Appointment, Client, Clinic, ServiceTherapist, Shift, Therapist
from tests.conftest import PASSWORD
from tests.factories import build_schedule

pytestmark = pytest.mark.browser


def _a_weekday_ahead() -> date:
    """A Monday-to-Friday date at least two days away, so every start time is still bookable."""
    day = datetime.now(UTC).date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _add_colleague(app, schedule, name: str) -> None:
    """A second therapist on the same hours, so the day view has more than one column."""
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            therapist = Therapist(display_name=name, calendar_colour="orange")
            db.session.add(therapist)
            db.session.flush()
            db.session.add(
                ServiceTherapist(service_id=schedule.service_id, therapist_id=therapist.id)
            )
            db.session.add_all(
                Shift(
                    therapist_id=therapist.id,
                    location_id=schedule.location_id,
                    weekday=weekday,
                    start_time=time(9),
                    end_time=time(17),
                    valid_from=date(2020, 1, 6),
                )
                for weekday in range(5)
            )
            db.session.commit()


def test_the_receptionist_books_a_new_client_who_lands_in_the_right_column_and_row(
    page: Page, app, clinic_a
):
    schedule = build_schedule(app, clinic_a)
    _add_colleague(app, schedule, "Olga Osei")
    day = _a_weekday_ahead()

    page.goto("/login")
    page.get_by_label("Email").fill(clinic_a.email("receptionist"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/c/northside/")

    page.get_by_test_id("clinic-nav").get_by_role("link", name="Appointments").click()
    page.wait_for_url(re.compile(r"/c/northside/appointments/$"))
    expect(page.get_by_test_id("day-heading")).to_contain_text("Today")
    page.get_by_role("link", name="New appointment").click()
    page.wait_for_url(re.compile(r"/c/northside/appointments/new"))

    # Step 1: the service and a day give free start times per therapist.
    page.get_by_label("Service").select_option(label="Sports massage 60 · 60 min")
    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.get_by_role("button", name="Find free times").click()
    page.wait_for_url(re.compile(r"service="))
    tom = page.get_by_test_id("slot-group").filter(has_text="Tom Turner")
    expect(tom).to_contain_text("at Harbour St")
    expect(page.get_by_test_id("slot-group").filter(has_text="Olga Osei")).to_be_visible()
    expect(tom.get_by_role("link", name="09:00", exact=True)).to_be_visible()
    tom.get_by_role("link", name="10:00", exact=True).click()

    # Step 2: a new client, then book.
    page.wait_for_url(re.compile(r"slot="))
    summary = page.get_by_test_id("slot-summary")
    expect(summary).to_contain_text("Sports massage 60 with Tom Turner")
    expect(summary).to_contain_text("10:00")
    new_client = page.get_by_test_id("new-client")
    new_client.get_by_label("First name").fill("Bea")
    new_client.get_by_label("Last name").fill("Sprinter")
    new_client.get_by_label("Email").fill("bea@example.com")
    new_client.get_by_label("Phone").fill("+44 7700 900123")
    page.get_by_role("button", name="Book appointment").click()

    # Back on the day view of that date, in Tom's column, on the 10:00 row.
    page.wait_for_url(re.compile(rf"/c/northside/appointments/\?date={day.isoformat()}$"))
    expect(page.get_by_text("Booked Bea Sprinter with Tom Turner")).to_be_visible()
    cell = page.get_by_test_id("appointment").filter(has_text="Bea Sprinter")
    expect(cell).to_have_count(1)
    expect(cell).to_contain_text("Sports massage 60")
    expect(cell).to_contain_text("Booked")
    expect(cell.locator("xpath=..")).to_have_attribute("data-time", "10:00")
    column = cell.get_attribute("data-column")
    header = page.locator(f'th[data-column="{column}"]')
    expect(header).to_contain_text("Tom Turner")
    expect(cell.get_by_role("button", name="Check in")).to_be_visible()

    # And where it is drawn: under Tom's heading, level with the 10:00 label.
    cell_box, header_box = cell.bounding_box(), header.bounding_box()
    row_box = page.locator('tr[data-time="10:00"] > th').bounding_box()
    assert cell_box and header_box and row_box
    assert abs(cell_box["x"] - header_box["x"]) < 2
    assert abs(cell_box["y"] - row_box["y"]) < 2


def test_booking_a_client_on_file_by_phone_number_typed_the_other_way_picks_their_record(
    page: Page, app, clinic_a
):
    schedule = build_schedule(app, clinic_a)
    with app.app_context():
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            jamie_id = create_client("Jamie", "O'Brien", "jamie@example.com", "+447700900123").id
            db.session.commit()
    day = _a_weekday_ahead()

    page.goto("/login")
    page.get_by_label("Email").fill(clinic_a.email("receptionist"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/c/northside/")
    page.goto(f"/c/northside/appointments/new?service={schedule.service_id}&date={day}")
    tom = page.get_by_test_id("slot-group").filter(has_text="Tom Turner")
    tom.get_by_role("link", name="11:00", exact=True).click()
    page.wait_for_url(re.compile(r"slot="))

    # Search finds the record whichever way the number is typed.
    page.get_by_label("Name, email or phone").fill("07700 900123")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("client-matches")).to_contain_text("Jamie O'Brien")

    # Entered as a new client, the number in its national form: the record on file is offered,
    # already chosen, and booking uses it.
    page.get_by_label("A new client (enter below)").check()
    new_client = page.get_by_test_id("new-client")
    new_client.get_by_label("First name").fill("Jamie")
    new_client.get_by_label("Last name").fill("O'Brien")
    new_client.get_by_label("Phone").fill("07700 900123")
    page.get_by_role("button", name="Book appointment").click()
    offer = page.get_by_test_id("possible-duplicates")
    expect(offer).to_contain_text(
        "This looks like Jamie O'Brien (jamie@example.com · 07700 900123)"
    )
    expect(offer.get_by_role("radio", name=re.compile("use this client"))).to_be_checked()
    expect(offer.get_by_role("radio", name="Create a new client anyway")).not_to_be_checked()
    page.get_by_role("button", name="Book appointment").click()

    page.wait_for_url(re.compile(rf"/c/northside/appointments/\?date={day.isoformat()}$"))
    expect(page.get_by_text("Booked Jamie O'Brien with Tom Turner")).to_be_visible()
    with app.app_context(), tenancy.bound_to(db.session.get(Clinic, schedule.clinic_id)):
        phones = db.session.scalars(select(Client.id).where(Client.phone == "+447700900123")).all()
        booked = db.session.scalars(select(Appointment.client_id)).all()
    assert phones == [jamie_id]
    assert booked == [jamie_id]
