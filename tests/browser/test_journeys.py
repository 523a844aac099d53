"""Whole journeys through the real pages in Chromium: forms, emails, navigation and roles."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import link_in

pytestmark = pytest.mark.browser

OWNER_EMAIL = "maya@riverside-recovery.example"
OWNER_PASSWORD = "kneading-the-hamstrings-42"
CLINIC_NAME = "Riverside Recovery Rooms"
SLUG = "riverside-recovery"
RECEPTIONIST_EMAIL = "sam@riverside-recovery.example"


def only_message(outbox, subject: str):
    messages = [m for m in outbox() if m.subject == subject]
    assert len(messages) == 1, [m.subject for m in outbox()]
    return messages[0]


def test_an_owner_signs_up_and_invites_a_receptionist_who_sees_only_their_pages(
    page: Page, new_page, outbox
):
    # The owner signs up through the form.
    page.goto("/signup")
    page.get_by_label("Your name").fill("Maya Okafor")
    page.get_by_label("Your email").fill(OWNER_EMAIL)
    page.get_by_label("Password", exact=True).fill(OWNER_PASSWORD)
    page.get_by_label("Clinic name").fill(CLINIC_NAME)
    page.get_by_label("Web address").fill(SLUG)
    page.get_by_label("Timezone").select_option("Europe/Dublin")
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label("Country").select_option("IE")
    page.get_by_role("button", name="Create my clinic").click()
    page.wait_for_url(re.compile(r"/signup/check-inbox"))
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.get_by_text(OWNER_EMAIL)).to_be_visible()

    # The confirmation link logs the owner in at the new clinic's home.
    confirmation = only_message(outbox, "Confirm your email address")
    assert confirmation.to == OWNER_EMAIL
    page.goto(link_in(confirmation, "/signup/confirm/"))
    page.wait_for_url(f"**/c/{SLUG}/")
    expect(page.get_by_test_id("clinic-name")).to_have_text(CLINIC_NAME)
    expect(page.get_by_test_id("my-role")).to_have_text("owner")
    expect(page.get_by_text("Europe/Dublin · EUR")).to_be_visible()

    # Log out from the navbar, then back in.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    expect(page.get_by_text("You have logged out.")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/c/{SLUG}/")
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Maya Okafor · Owner")

    # Invite a receptionist from the Staff page.
    page.get_by_test_id("clinic-nav").get_by_role("link", name="Staff").click()
    page.wait_for_url(f"**/c/{SLUG}/staff/")
    invite = page.locator("form", has=page.get_by_role("button", name="Send invitation"))
    invite.get_by_label("Email").fill(RECEPTIONIST_EMAIL)
    invite.get_by_label("Role").select_option("receptionist")
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(f"Invitation sent to {RECEPTIONIST_EMAIL}.")).to_be_visible()
    expect(page.get_by_test_id("pending-invitations")).to_contain_text(RECEPTIONIST_EMAIL)

    # The receptionist accepts on their own device.
    invitation = only_message(outbox, f"You're invited to join {CLINIC_NAME} on clinic_saas")
    assert invitation.to == RECEPTIONIST_EMAIL
    device = new_page()
    device.goto(link_in(invitation, "/invite/"))
    expect(device.get_by_role("heading", name=f"Join {CLINIC_NAME}")).to_be_visible()
    device.get_by_label("Your name").fill("Sam Reyes")
    device.get_by_label("Choose a password").fill("front-desk-bookings-7")
    device.get_by_role("button", name=f"Join {CLINIC_NAME}").click()
    device.wait_for_url(f"**/c/{SLUG}/")
    expect(
        device.get_by_text(f"Welcome to {CLINIC_NAME}! You joined as receptionist.")
    ).to_be_visible()
    expect(device.get_by_test_id("my-role")).to_have_text("receptionist")
    expect(device.get_by_test_id("signed-in-as")).to_have_text("Sam Reyes · Receptionist")

    # Their navbar offers neither Staff nor Settings, and the staff page is closed to them.
    nav = device.get_by_test_id("clinic-nav")
    expect(nav.get_by_role("link", name="Home")).to_be_visible()
    expect(nav.get_by_role("link", name="Staff")).to_have_count(0)
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
    response = device.goto(f"/c/{SLUG}/staff/")
    assert response is not None and response.status == 403
    expect(device.get_by_role("heading", name="You don't have access to this page")).to_be_visible()


def test_signup_suggests_the_web_address_and_shows_a_short_password_error_beside_the_field(
    page: Page, outbox
):
    page.goto("/signup")
    slug = page.get_by_label("Web address")
    page.get_by_label("Clinic name").press_sequentially("Café Deep Tissue & Co")
    expect(slug).to_have_value("cafe-deep-tissue-co")

    page.get_by_label("Your name").fill("Jo Brennan")
    page.get_by_label("Your email").fill("jo@deep-tissue.example")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Create my clinic").click()

    password = page.get_by_label("Password", exact=True)
    expect(password).to_have_class(re.compile(r"\bis-invalid\b"))
    error = page.get_by_test_id("error-password")
    expect(error).to_have_text("Use at least 10 characters.")
    expect(error).to_be_visible()
    field = password.locator("xpath=..")  # the wrapper holding the input, its label and errors
    expect(field.get_by_test_id("error-password")).to_be_visible()
    expect(slug).to_have_value("cafe-deep-tissue-co")
    assert outbox() == []
