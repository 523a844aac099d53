"""The owner puts a service on the menu, schedules its next price, and sells a client a package."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from clinic_saas import tenancy
from clinic_saas.clinic_time import today_in
from clinic_saas.extensions import db
from clinic_saas.menu import offers
from clinic_saas.models import Clinic, PackageSale
from tests.conftest import PASSWORD
from tests.factories import build_schedule

pytestmark = pytest.mark.browser


def _rehab_course(app, clinic_a, schedule) -> str:
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            package = offers.save_package(
                None,
                name="6-session rehab course",
                sessions_count=6,
                price_minor=27000,
                validity_months=6,
                service_ids=[schedule.service_id],
            )
            db.session.commit()
            return package.name


def test_owner_adds_a_service_schedules_its_price_and_sells_a_package(page: Page, app, clinic_a):
    schedule = build_schedule(app, clinic_a)
    course = _rehab_course(app, clinic_a, schedule)
    with app.app_context():
        next_week = today_in(db.session.get(Clinic, clinic_a.clinic_id)) + timedelta(days=7)

    page.goto("/login")
    page.get_by_label("Email").fill(clinic_a.email("owner"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/c/northside/")

    # A new service on the menu.
    page.get_by_test_id("clinic-nav").get_by_role("link", name="Menu").click()
    page.get_by_test_id("add-service").click()
    page.get_by_label("Name").fill("Calf flush")
    page.get_by_label("Category").select_option("pre_event")
    page.get_by_label("Session (minutes)").fill("30")
    page.get_by_label("Buffer after (minutes)").fill("10")
    page.get_by_label("Price").fill("35")
    page.get_by_label("Tom Turner").check()
    page.get_by_role("button", name="Add to the menu").click()
    expect(page.get_by_text("Calf flush is on the menu.")).to_be_visible()
    row = page.locator("tr", has_text="Calf flush")
    expect(row).to_contain_text("£35.00")

    # Its next price, from next week.
    row.get_by_role("link", name="Prices").click()
    page.get_by_label("New price").fill("40")
    page.get_by_label(re.compile("From")).fill(next_week.isoformat())
    page.get_by_role("button", name="Schedule price").click()
    expect(page.get_by_text(re.compile(r"Calf flush costs £40\.00 from"))).to_be_visible()
    page.get_by_test_id("clinic-nav").get_by_role("link", name="Menu").click()
    row = page.locator("tr", has_text="Calf flush")
    expect(row).to_contain_text("£35.00")  # today's price is unchanged
    expect(row).to_contain_text("£40.00")  # and the change is announced

    # Sell the client a package at the desk.
    page.get_by_test_id("clinic-nav").get_by_role("link", name="Sales").click()
    page.get_by_role("searchbox").fill("Ada")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=re.compile("Ada Runner")).first.click()
    chooser = page.get_by_test_id("choose-package")
    chooser.get_by_label("Package").select_option(label=f"{course} · 6 sessions · £270.00")
    chooser.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("confirm-price")).to_have_text("£270.00")
    page.get_by_role("button", name="Sell for £270.00").click()
    expect(page.get_by_text(course).first).to_be_visible()
    expect(page.get_by_text("6 left").first).to_be_visible()

    with app.app_context(), tenancy.platform_access():
        sale = db.session.scalar(db.select(PackageSale))
    assert (sale.name, sale.price_minor, sale.sessions_total) == (course, 27000, 6)
