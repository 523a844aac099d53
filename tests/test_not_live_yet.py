"""Settings and copy with nothing behind them yet say plainly that they are not live."""

from __future__ import annotations

from .factories import build_menu, build_schedule

NOT_LIVE = "not live yet"


def test_the_home_page_promises_invoices_and_card_payments_now_they_are_live(client):
    page = client.get("/").get_data(as_text=True)
    assert "invoices and card payments" in page
    assert NOT_LIVE not in page.lower()


def test_online_settings_and_payment_copy_say_they_are_not_live(app, client, auth, clinic_a):
    schedule = build_schedule(app, clinic_a)
    build_menu(app, schedule)
    auth.login_as("owner", clinic_a)
    pages = {
        "/c/northside/menu/": "Online (not live yet)",
        "/c/northside/menu/new": "Not live yet: online booking is coming.",
        "/c/northside/menu/offers/packages/new": "Not live yet: online payments are coming.",
    }
    for url, wording in pages.items():
        page = client.get(url).get_data(as_text=True)
        assert wording in page, url
    menu = client.get("/c/northside/menu/").get_data(as_text=True)
    assert '<span class="badge text-bg-success">Online</span>' not in menu
    staff = client.get("/c/northside/staff/").get_data(as_text=True)
    assert "invoice and take payments" in staff and NOT_LIVE not in staff
    settings = client.get("/c/northside/settings/").get_data(as_text=True)
    assert "printed on invoices" in settings and NOT_LIVE not in settings.lower()
