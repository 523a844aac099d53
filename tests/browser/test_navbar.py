"""The navbar says who is logged in at every width, and fits: the desktop bar within the page,
the phone menu behind its button."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _log_in(page: Page, clinic_a, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/login")
    page.get_by_label("Email").fill(clinic_a.email("owner"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/c/northside/")


@pytest.mark.parametrize("width", [1200, 1280, 1440])
def test_the_desktop_navbar_shows_who_is_logged_in_and_fits(page: Page, clinic_a, width):
    _log_in(page, clinic_a, width)
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()  # the desktop bar
    who = page.get_by_test_id("signed-in-as")
    expect(who).to_be_visible()
    expect(who).to_contain_text(" · Owner")
    log_out = page.get_by_role("button", name="Log out").bounding_box()
    assert log_out is not None and log_out["x"] + log_out["width"] <= width


def test_a_narrower_window_folds_the_bar_into_the_menu_which_says_who(page: Page, clinic_a):
    _log_in(page, clinic_a, 1024)
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()
