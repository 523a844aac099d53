"""Settings and copy with nothing behind them yet say plainly that they are not live."""

from __future__ import annotations

from .factories import build_menu, build_schedule

NOT_LIVE = "not live yet"


def test_the_home_page_does_not_promise_invoices_and_payments(client):
    page = client.get("/").get_data(as_text=True)
    assert "Invoices and online payments are not live yet." in page
    assert "SOAP notes, invoices and online payments" not in page


def test_online_settings_and_payment_copy_say_they_are_not_live(app, client, auth, clinic_a):
    schedule = build_schedule(app, clinic_a)
    build_menu(app, schedule)
    auth.login_as("owner", clinic_a)
    pages = {
        "/c/northside/menu/": "Online (not live yet)",
        "/c/northside/menu/new": "Not live yet: online booking is coming.",
        "/c/northside/menu/offers/packages/new": "Not live yet: online payments are coming.",
        "/c/northside/staff/": "card payments are not live yet",
        "/c/northside/settings/": "for invoices (not live yet",
    }
    for url, wording in pages.items():
        page = client.get(url).get_data(as_text=True)
        assert wording in page, url
    menu = client.get("/c/northside/menu/").get_data(as_text=True)
    assert '<span class="badge text-bg-success">Online</span>' not in menu
    staff = client.get("/c/northside/staff/").get_data(as_text=True)
    assert "receptionists book and take payments" not in staff
