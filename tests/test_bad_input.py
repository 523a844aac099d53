"""Input no person means to type: refused with a clear message and a 4xx, never a 500, and
nothing stored.

Run these on PostgreSQL too (TEST_DATABASE_URL): it refuses a NUL character outright, where
SQLite stores it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import (
    Category,
    Clinic,
    Location,
    MembershipPlan,
    PriceTier,
    Room,
    TaxRate,
    Therapist,
)

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


def _named_forms(schedule) -> list[tuple[str, dict, type]]:
    """(url, form with a NUL in its name, model it would add to) for each kind of named thing."""
    name = "Bad\x00name"
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
