"""The desktop navbar says who is logged in, as the phone menu does."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1024, 1280, 1440])
def test_the_desktop_navbar_shows_who_is_logged_in(page: Page, clinic_a, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/login")
    page.get_by_label("Email").fill(clinic_a.email("owner"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/c/northside/")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()  # the desktop bar, not a phone
    who = page.get_by_test_id("signed-in-as")
    expect(who).to_be_visible()
    expect(who).to_contain_text(" · Owner")
