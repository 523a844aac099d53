"""A client pays an invoice from its pay link on a phone-sized window, through the Stripe.js
stand-in served by the real emulator: a plain card, and a card that asks for 3-D Secure."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from clinic_saas.models import InvoiceStatus, Payment, SavedCard
from tests.payments_support import invoice_of, issued_invoice, rows

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _open_on_a_phone(new_page, token: str) -> Page:
    page = new_page()
    page.set_viewport_size(PHONE)
    page.goto(f"/pay/{token}")
    return page


def _type_card(page: Page, number: str) -> None:
    """The stand-in's card element: five plain inputs; digits only (it jumps on by itself)."""
    card = page.get_by_test_id("card-element")
    for field, value in (
        ("number", number),
        ("exp_month", "12"),
        ("exp_year", "34"),
        ("cvc", "123"),
        ("postal_code", "10001"),
    ):
        card.locator(f"input[placeholder={field}]").fill(value)


def test_a_client_pays_from_the_link_on_a_phone_and_sees_the_receipt(
    new_page, app, clinic_a, stripe_emulator
):
    invoice_id, token = issued_invoice(app, clinic_a, (4500, 1500))
    number = invoice_of(app, clinic_a, invoice_id).number
    page = _open_on_a_phone(new_page, token)
    expect(page.get_by_test_id("pay-clinic")).to_have_text("Northside Sports Massage")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {number}")
    expect(page.get_by_test_id("pay-due")).to_have_text("£60.00")
    _type_card(page, "4242424242424242")
    page.get_by_label("Keep my card for future payments").check()
    page.get_by_test_id("pay-button").click()

    expect(page.get_by_test_id("pay-receipt")).to_contain_text(
        f"Northside Sports Massage has received your payment for invoice {number}"
    )
    expect(page.get_by_test_id("receipt-payment")).to_contain_text("ending 4242")
    expect(page.get_by_test_id("receipt-due")).to_have_text("£0.00")
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PAID
    assert [p.amount_minor for p in rows(app, clinic_a, Payment)] == [6000]
    assert [c.last4 for c in rows(app, clinic_a, SavedCard)] == ["4242"]
    # The link now says the invoice is paid.
    page.goto(f"/pay/{token}")
    expect(page.get_by_test_id("pay-problem")).to_contain_text("is paid")


def test_a_client_completes_three_d_secure_in_the_modal(new_page, app, clinic_a, stripe_emulator):
    invoice_id, token = issued_invoice(app, clinic_a, (7000,))
    page = _open_on_a_phone(new_page, token)
    _type_card(page, "4000002500003155")
    page.get_by_test_id("pay-button").click()

    complete = page.get_by_role("button", name="Complete authentication")
    receipt = page.get_by_test_id("pay-receipt")
    # The stand-in asks once when the card is set up and once when it is charged.
    for _ in range(3):
        expect(complete.or_(receipt)).to_be_visible()
        if receipt.is_visible():
            break
        complete.click()
    expect(receipt).to_contain_text("ending 3155")
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PAID
    assert [p.amount_minor for p in rows(app, clinic_a, Payment)] == [7000]


def test_a_declined_card_says_so_and_another_card_pays(new_page, app, clinic_a, stripe_emulator):
    invoice_id, token = issued_invoice(app, clinic_a, (3000,))
    page = _open_on_a_phone(new_page, token)
    _type_card(page, "4000000000000341")
    page.get_by_test_id("pay-button").click()
    expect(page.get_by_test_id("pay-error")).to_contain_text("declined")
    assert rows(app, clinic_a, Payment) == []
    page.reload()
    _type_card(page, "4242424242424242")
    page.get_by_test_id("pay-button").click()
    expect(page.get_by_test_id("pay-receipt")).to_be_visible()
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PAID
