"""Packages and maintenance plans on the menu, made and changed through their pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.menu import offers
from clinic_saas.models import (
    Clinic,
    MembershipPlan,
    Package,
    PackageService,
    Service,
    TaxRate,
)

from .conftest import make_clinic
from .factories import build_schedule

OFFERS = "/c/northside/menu/offers"


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


def _in_clinic(app, clinic_fixture, work):
    """Run work() with the clinic bound, and commit what it wrote."""
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            result = work()
            db.session.commit()
            return result


def _count(app, clinic_fixture, model) -> int:
    return _in_clinic(app, clinic_fixture, lambda: db.session.scalar(select(func.count(model.id))))


def _error(page, field: str) -> str:
    """The error shown beside one field of the page."""
    match = re.search(rf'data-testid="error-{field}">([^<]*)<', page.get_data(as_text=True))
    assert match, f"no error beside {field}"
    return match.group(1)


def _package_form(schedule, **changes) -> dict:
    data = {
        "name": "Rehab course of 6",
        "description": "Six rehab sessions at a discount.",
        "sessions_count": "6",
        "price": "300",
        "validity_months": "6",
        "services": [str(schedule.service_id)],
        "tax_rate": "",
        "shareable": "y",
        "bookable_online": "y",
        "active": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _plan_form(schedule, **changes) -> dict:
    data = {
        "name": "Monthly maintenance",
        "description": "",
        "price": "55",
        "sessions_per_period": "1",
        "services": [str(schedule.service_id)],
        "tax_rate": "",
        "active": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _make_package(app, clinic_fixture, schedule, **terms) -> str:
    values = {"sessions_count": 6, "price_minor": 30000, "validity_months": 6}
    values.update(terms)
    return str(
        _in_clinic(
            app,
            clinic_fixture,
            lambda: (
                offers.save_package(
                    None, name="Rehab course of 6", service_ids=[schedule.service_id], **values
                ).id
            ),
        )
    )


def _make_plan(app, clinic_fixture, schedule) -> str:
    return str(
        _in_clinic(
            app,
            clinic_fixture,
            lambda: (
                offers.save_plan(
                    None,
                    name="Monthly maintenance",
                    price_minor=5500,
                    sessions_per_period=1,
                    service_ids=[schedule.service_id],
                ).id
            ),
        )
    )


def test_an_owner_adds_a_package_and_sees_it_on_the_list(app, client, auth, clinic_a, schedule):
    auth.login_as("owner", clinic_a)
    page = client.get(f"{OFFERS}/packages/new")
    assert page.status_code == 200
    assert "Sports massage 60" in page.get_data(as_text=True)

    response = client.post_form(f"{OFFERS}/packages/new", _package_form(schedule))
    assert response.status_code == 302
    assert response.location.endswith(f"{OFFERS}/")

    def stored():
        package = db.session.scalar(select(Package))
        links = db.session.scalars(select(PackageService.service_id)).all()
        return package.name, package.sessions_count, package.price_minor, package.shareable, links

    assert _in_clinic(app, clinic_a, stored) == (
        "Rehab course of 6",
        6,
        30000,
        True,
        [schedule.service_id],
    )
    listing = client.get(f"{OFFERS}/").get_data(as_text=True)
    assert "Rehab course of 6" in listing
    assert "£300.00" in listing and "£50.00" in listing  # the price, and per session
    assert "6 months" in listing
    assert "Sports massage 60" in listing
    assert "Shareable" in listing


def test_a_manager_changes_a_package_without_touching_what_was_sold(
    app, client, auth, clinic_a, schedule
):
    package_id = _make_package(app, clinic_a, schedule)
    vat = _in_clinic(app, clinic_a, lambda: _added(TaxRate(name="VAT 20%", rate_bp=2000)).id)
    auth.login_as("manager", clinic_a)
    page = client.get(f"{OFFERS}/packages/{package_id}").get_data(as_text=True)
    assert 'value="300.00"' in page  # the price as a person types it
    assert "VAT 20% (20%)" in page

    changed = _package_form(schedule, price="270.50", sessions_count="5", tax_rate=str(vat))
    changed.pop("shareable")
    response = client.post_form(f"{OFFERS}/packages/{package_id}", changed)
    assert response.status_code == 302

    def stored():
        p = db.session.scalar(select(Package))
        return p.price_minor, p.sessions_count, p.tax_rate_id, p.shareable

    assert _in_clinic(app, clinic_a, stored) == (27050, 5, vat, False)


def _added(row):
    db.session.add(row)
    db.session.flush()
    return row


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"sessions_count": "0"}, "sessions_count", "between 1 and 100 sessions"),
        ({"sessions_count": ""}, "sessions_count", "Give the number of sessions."),
        ({"price": "-5"}, "price", "cannot be negative"),
        ({"price": "45.505"}, "price", "2 decimal places at most"),
        ({"services": None}, "services", "Choose at least one service"),
        ({"validity_months": "0"}, "validity_months", "1 to 60 months"),
        ({"name": "  "}, "name", "Give it a name."),
    ],
)
def test_bad_package_input_is_a_400_beside_the_field_and_stores_nothing(
    app, client, auth, clinic_a, schedule, changes, field, message
):
    auth.login_as("owner", clinic_a)
    response = client.post_form(f"{OFFERS}/packages/new", _package_form(schedule, **changes))
    assert response.status_code == 400
    assert message in _error(response, field)
    assert _count(app, clinic_a, Package) == 0
    assert _count(app, clinic_a, PackageService) == 0


def test_a_bad_change_leaves_the_package_as_it_was(app, client, auth, clinic_a, schedule):
    package_id = _make_package(app, clinic_a, schedule)
    auth.login_as("owner", clinic_a)
    response = client.post_form(
        f"{OFFERS}/packages/{package_id}",
        _package_form(schedule, name="Renamed", validity_months="0"),
    )
    assert response.status_code == 400
    assert "1 to 60 months" in _error(response, "validity_months")
    names = _in_clinic(app, clinic_a, lambda: db.session.scalars(select(Package.name)).all())
    assert names == ["Rehab course of 6"]


def test_a_zero_decimal_currency_takes_whole_amounts_only(app, client, auth):
    tokyo = make_clinic(app, "tokyo", "Tokyo Sports Care", currency="JPY")
    schedule = build_schedule(app, tokyo)
    auth.login_as("owner", tokyo)
    url = "/c/tokyo/menu/offers/packages/new"
    refused = client.post_form(url, _package_form(schedule, price="45.5"))
    assert refused.status_code == 400
    assert "JPY has no minor unit" in _error(refused, "price")
    assert client.post_form(url, _package_form(schedule, price="30000")).status_code == 302
    assert _in_clinic(app, tokyo, lambda: db.session.scalar(select(Package.price_minor))) == 30000


def test_a_service_no_longer_on_the_menu_stays_covered_when_editing(
    app, client, auth, clinic_a, schedule
):
    def withdrawn_service():
        service = _added(
            Service(name="Cupping", category="rehab", duration_minutes=30, active=False)
        )
        package = db.session.scalar(select(Package))
        db.session.add(PackageService(package_id=package.id, service_id=service.id))
        return service.id

    package_id = _make_package(app, clinic_a, schedule)
    cupping = _in_clinic(app, clinic_a, withdrawn_service)
    auth.login_as("owner", clinic_a)
    page = client.get(f"{OFFERS}/packages/{package_id}").get_data(as_text=True)
    assert "no longer on the menu: Cupping" in page
    assert (
        client.post_form(f"{OFFERS}/packages/{package_id}", _package_form(schedule)).status_code
        == 302
    )
    covered = _in_clinic(
        app, clinic_a, lambda: set(db.session.scalars(select(PackageService.service_id)))
    )
    assert covered == {schedule.service_id, cupping}


def test_an_owner_adds_and_changes_a_plan(app, client, auth, clinic_a, schedule):
    auth.login_as("owner", clinic_a)
    assert client.get(f"{OFFERS}/plans/new").status_code == 200
    assert client.post_form(f"{OFFERS}/plans/new", _plan_form(schedule)).status_code == 302
    plan_id = _in_clinic(app, clinic_a, lambda: db.session.scalar(select(MembershipPlan.id)))
    listing = client.get(f"{OFFERS}/").get_data(as_text=True)
    assert "Monthly maintenance" in listing and "£55.00" in listing

    page = client.get(f"{OFFERS}/plans/{plan_id}").get_data(as_text=True)
    assert 'value="55.00"' in page
    changed = _plan_form(schedule, price="60", sessions_per_period="2")
    changed.pop("active")
    assert client.post_form(f"{OFFERS}/plans/{plan_id}", changed).status_code == 302

    def stored():
        plan = db.session.scalar(select(MembershipPlan))
        return plan.price_minor, plan.sessions_per_period, plan.active

    assert _in_clinic(app, clinic_a, stored) == (6000, 2, False)
    assert "Closed to new members" in client.get(f"{OFFERS}/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"sessions_per_period": "0"}, "sessions_per_period", "1 to 31 sessions a month"),
        ({"price": "-1"}, "price", "cannot be negative"),
        ({"services": None}, "services", "Choose at least one service"),
    ],
)
def test_bad_plan_input_is_a_400_beside_the_field_and_stores_nothing(
    app, client, auth, clinic_a, schedule, changes, field, message
):
    auth.login_as("manager", clinic_a)
    response = client.post_form(f"{OFFERS}/plans/new", _plan_form(schedule, **changes))
    assert response.status_code == 400
    assert message in _error(response, field)
    assert _count(app, clinic_a, MembershipPlan) == 0


@pytest.mark.parametrize("role", ["receptionist", "therapist"])
def test_only_owners_and_managers_change_packages_and_plans(
    app, client, auth, clinic_a, schedule, role
):
    package_id = _make_package(app, clinic_a, schedule)
    plan_id = _make_plan(app, clinic_a, schedule)
    auth.login_as(role, clinic_a)
    listing = client.get(f"{OFFERS}/")
    assert listing.status_code == 200  # everyone sees what the clinic sells
    text = listing.get_data(as_text=True)
    assert "Rehab course of 6" in text and "Monthly maintenance" in text
    assert "Add a package" not in text and "Edit</a>" not in text
    for url, form in [
        (f"{OFFERS}/packages/new", _package_form(schedule, name="Sneaky")),
        (f"{OFFERS}/packages/{package_id}", _package_form(schedule, price="1")),
        (f"{OFFERS}/plans/new", _plan_form(schedule, name="Sneaky")),
        (f"{OFFERS}/plans/{plan_id}", _plan_form(schedule, price="1")),
    ]:
        assert client.post_form(url, form).status_code == 403, url
        assert client.get(url).status_code == 403, url
    assert _count(app, clinic_a, Package) == 1
    assert _count(app, clinic_a, MembershipPlan) == 1
    prices = _in_clinic(
        app, clinic_a, lambda: db.session.scalars(select(Package.price_minor)).all()
    )
    assert prices == [30000]


def test_unknown_or_malformed_ids_are_404(client, auth, clinic_a, schedule):
    auth.login_as("owner", clinic_a)
    assert client.get(f"{OFFERS}/packages/not-a-uuid").status_code == 404
    assert client.get(f"{OFFERS}/plans/01890000-0000-7000-8000-000000000000").status_code == 404


def _flashes(client, category: str) -> list[str]:
    page = client.get(f"{OFFERS}/").get_data(as_text=True)
    return [
        re.sub(r"\s+", " ", text).strip()
        for text in re.findall(rf"alert-{category}[^>]*>(.*?)<(?:button|/div)", page, re.S)
    ]


@pytest.mark.parametrize(
    ("price", "warning"),
    [
        ("0", "Rehab course of 6 costs nothing: check its price if that is not meant."),
        (
            "390",
            "Rehab course of 6 costs £65.00 a session, more than Sports massage 60 bought on "
            "its own (£60.00): check its price if that is not meant.",
        ),
        ("360", None),  # the same as one by one
        ("300", None),
    ],
)
def test_a_free_or_dear_package_is_saved_with_a_warning(
    app, client, auth, clinic_a, schedule, price, warning
):
    auth.login_as("owner", clinic_a)
    response = client.post_form(f"{OFFERS}/packages/new", _package_form(schedule, price=price))
    assert response.status_code == 302
    assert _count(app, clinic_a, Package) == 1
    assert _flashes(client, "warning") == ([warning] if warning else [])
