"""A clinic's public price list: no login, only what clients can book online, in their money."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import (
    Clinic,
    PriceTier,
    Service,
    ServicePrice,
    TaxRate,
)

from .conftest import make_clinic


def _with_clinic(app, clinic_id, fn):
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_id)
        with tenancy.bound_to(clinic):
            result = fn(clinic)
            db.session.commit()
            return result


def _menu(app, clinic_id, *services, country=None, include_tax=None):
    """Services as (name, category, minutes, price, active, online); prices since 2020."""

    def create(clinic):
        if country:
            clinic.country = country
        if include_tax is not None:
            clinic.prices_include_tax = include_tax
        rows = []
        for position, (name, category, minutes, price, active, online) in enumerate(services):
            row = Service(
                name=name,
                category=category,
                duration_minutes=minutes,
                active=active,
                bookable_online=online,
                position=position,
                description=f"About {name}.",
            )
            db.session.add(row)
            db.session.flush()
            db.session.add(
                ServicePrice(service_id=row.id, price_minor=price, effective_from=date(2020, 1, 1))
            )
            rows.append(row.id)
        return rows

    return _with_clinic(app, clinic_id, create)


def _page(client, slug: str):
    response = client.get(f"/clinics/{slug}/menu")
    return response, response.get_data(as_text=True)


def test_the_public_menu_lists_only_active_services_bookable_online(app, client, clinic_a):
    _menu(
        app,
        clinic_a.clinic_id,
        ("Sports massage 45", "maintenance", 45, 4500, True, True),
        ("Pre-race flush", "pre_event", 30, 3000, True, True),
        ("Retired treatment", "maintenance", 60, 5000, False, True),
        ("Reception-only assessment", "rehab", 90, 9000, True, False),
    )
    response, page = _page(client, "northside")
    assert response.status_code == 200
    assert page.count('data-testid="public-service"') == 2
    assert "Sports massage 45" in page and "£45.00" in page and "45 min" in page
    assert "About Sports massage 45." in page
    assert "Retired treatment" not in page and "Reception-only assessment" not in page
    # Grouped by category, in category order: Pre-event comes before Maintenance.
    assert page.index("Pre-event") < page.index("Pre-race flush") < page.index("Maintenance")
    assert "Rehab" not in page  # a category with nothing online is left out
    assert 'data-testid="clinic-nav"' not in page and "Log in" not in page
    assert "All prices include tax." not in page
    assert "The prices shown are what you pay." in page


def test_a_euro_clinic_in_ireland_shows_euros(app, client, clinic_b):
    _menu(
        app,
        clinic_b.clinic_id,
        ("Post-event recovery", "post_event", 60, 4500, True, True),
        country="IE",
    )
    _response, page = _page(client, "harbour")
    assert "€45.00" in page


def test_a_yen_clinic_in_japan_shows_whole_yen(app, client):
    tokyo = make_clinic(app, "tokyo", "Tokyo Sports Care", currency="JPY")
    _menu(
        app, tokyo.clinic_id, ("Sports massage", "maintenance", 60, 5500, True, True), country="JP"
    )
    _response, page = _page(client, "tokyo")
    assert "￥5,500" in page or "¥5,500" in page
    assert "5,500.00" not in page


def test_tax_added_on_top_is_said_beside_the_price(app, client, clinic_a):
    def add_rate(clinic):
        rate = TaxRate(name="Sales tax", rate_bp=825)
        db.session.add(rate)
        db.session.flush()
        return rate.id

    rate_id = _with_clinic(app, clinic_a.clinic_id, add_rate)
    (service_id,) = _menu(
        app,
        clinic_a.clinic_id,
        ("Sports massage", "maintenance", 60, 9000, True, True),
        include_tax=False,
    )

    def give_rate(clinic):
        db.session.scalar(select(Service).where(Service.id == service_id)).tax_rate_id = rate_id

    _with_clinic(app, clinic_a.clinic_id, give_rate)
    _response, page = _page(client, "northside")
    assert "+ tax (8.25%)" in page
    assert "Prices shown exclude tax" in page

    _with_clinic(
        app, clinic_a.clinic_id, lambda clinic: setattr(clinic, "prices_include_tax", True)
    )
    _response, page = _page(client, "northside")
    assert "All prices include tax." in page and "+ tax" not in page


def test_unknown_and_closed_clinics_are_not_found(app, client, clinic_a):
    assert client.get("/clinics/no-such-clinic/menu").status_code == 404
    _with_clinic(app, clinic_a.clinic_id, lambda clinic: setattr(clinic, "active", False))
    assert client.get("/clinics/northside/menu").status_code == 404


def test_a_member_of_another_clinic_sees_only_this_clinics_menu(
    app, client, auth, clinic_a, clinic_b
):
    _menu(app, clinic_a.clinic_id, ("Northside massage", "rehab", 60, 4500, True, True))
    _menu(app, clinic_b.clinic_id, ("Harbour massage", "rehab", 60, 4500, True, True))
    auth.login_as("owner", clinic_b)
    response, page = _page(client, "northside")
    assert response.status_code == 200
    assert "Northside massage" in page and "Harbour massage" not in page
    assert client.get("/c/harbour/").status_code == 200  # still their own back office


def test_the_public_menu_is_linked_from_the_back_office(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    page = client.get("/c/northside/menu/").get_data(as_text=True)
    assert 'href="/clinics/northside/menu"' in page and "Your public price list" in page


@pytest.mark.parametrize("with_tiers", [False, True])
def test_the_public_menu_costs_the_same_queries_for_3_services_as_for_40(
    app, client, clinic_a, count_queries, with_tiers
):
    def spec(tag, n):
        return (f"{tag} {n}", ("rehab", "maintenance")[n % 2], 60, 4000 + n, True, True)

    def tier_prices(ids):
        def create(clinic):
            tier = db.session.scalar(select(PriceTier)) or PriceTier(name="Senior")
            db.session.add(tier)
            db.session.flush()
            db.session.add_all(
                ServicePrice(
                    service_id=i, tier_id=tier.id, price_minor=7000, effective_from=date(2021, 1, 1)
                )
                for i in ids
            )

        if with_tiers:
            _with_clinic(app, clinic_a.clinic_id, create)

    tier_prices(_menu(app, clinic_a.clinic_id, *(spec("few", n) for n in range(3))))
    few, response = count_queries(lambda: client.get("/clinics/northside/menu"))
    assert response.get_data(as_text=True).count('data-testid="public-service"') == 3
    tier_prices(_menu(app, clinic_a.clinic_id, *(spec("many", n) for n in range(37))))
    many, response = count_queries(lambda: client.get("/clinics/northside/menu"))
    page = response.get_data(as_text=True)
    assert page.count('data-testid="public-service"') == 40
    if with_tiers:
        assert page.count("with a senior therapist") == 40
    assert many == few, f"{few} statements for 3 services, {many} for 40"
