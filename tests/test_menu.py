"""The menu: services, dated prices, categories, tax and tiers, kept by owners and managers."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from clinic_saas import display, tenancy
from clinic_saas.clinic_time import today_in
from clinic_saas.extensions import db
from clinic_saas.menu.pricing import in_force_ids, price_for
from clinic_saas.models import (
    Appointment,
    Category,
    Client,
    Clinic,
    Location,
    PriceTier,
    Role,
    Service,
    ServicePrice,
    ServiceTherapist,
    TaxRate,
    TaxTreatment,
    Therapist,
)
from clinic_saas.scheduling import booking

from .conftest import make_clinic
from .factories import build_menu, build_schedule

MENU = "/c/northside/menu"


def _in_clinic(app, clinic_fixture, fn, commit=False):
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            result = fn()
            if commit:
                db.session.commit()
            return result


def _today(app, clinic_fixture) -> date:
    with app.app_context():
        return today_in(db.session.get(Clinic, clinic_fixture.clinic_id))


def _add_services(app, clinic_fixture, count, *, tag="svc", **fields):
    """`count` services priced 45.00 since 2020, one therapist offering each; their ids."""

    def create():
        therapist = Therapist(display_name=f"{tag} therapist")
        db.session.add(therapist)
        rows = [
            Service(
                name=f"{tag} {n}",
                category=fields.get("category", "rehab"),
                duration_minutes=fields.get("duration_minutes", 60),
                buffer_minutes=fields.get("buffer_minutes", 0),
                active=fields.get("active", True),
                bookable_online=fields.get("bookable_online", True),
                tax_rate_id=fields.get("tax_rate_id"),
                position=n,
            )
            for n in range(count)
        ]
        db.session.add_all(rows)
        db.session.flush()
        for row in rows:
            db.session.add(
                ServicePrice(
                    service_id=row.id,
                    price_minor=fields.get("price_minor", 4500),
                    effective_from=date(2020, 1, 1),
                )
            )
            db.session.add(ServiceTherapist(service_id=row.id, therapist_id=therapist.id))
        return [row.id for row in rows]

    return _in_clinic(app, clinic_fixture, create, commit=True)


def _count(app, clinic_fixture, model) -> int:
    return _in_clinic(
        app, clinic_fixture, lambda: db.session.scalar(select(func.count()).select_from(model))
    )


def _service(app, clinic_fixture, service_id) -> Service:
    return _in_clinic(
        app,
        clinic_fixture,
        lambda: db.session.scalar(select(Service).where(Service.id == service_id)),
    )


def _prices(app, clinic_fixture, service_id) -> list[tuple]:
    return _in_clinic(
        app,
        clinic_fixture,
        lambda: [
            (row.price_minor, row.effective_from, row.tier_id)
            for row in db.session.scalars(
                select(ServicePrice)
                .where(ServicePrice.service_id == service_id)
                .order_by(ServicePrice.effective_from)
            )
        ],
    )


def _new_service(**changes) -> dict:
    data = {
        "name": "Sports massage 45",
        "category": "maintenance",
        "description": "A focused session on what training has tightened.",
        "duration_minutes": "45",
        "buffer_minutes": "15",
        "price": "45",
        "tax_rate": "",
        "bookable_online": "y",
        "active": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _text(response) -> str:
    return response.get_data(as_text=True)


# Prices written for people ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "country", "expected"),
    [
        (4500, "GBP", "GB", "£45.00"),
        (4500, "EUR", "IE", "€45.00"),
        (4500, "EUR", "DE", "45,00\xa0€"),
        (5500, "JPY", "JP", "￥5,500"),
        (1250, "BHD", "BH", "BHD1.250"),  # 3 decimals, from our own table of currencies
        (123456789, "USD", "US", "$1,234,567.89"),
    ],
)
def test_prices_are_written_the_way_the_clinics_country_writes_them(
    amount, currency, country, expected
):
    assert display.price(amount, currency, country) == expected


def test_format_price_takes_integer_minor_units_only():
    with pytest.raises(TypeError):
        display.price(45.5, "GBP", "GB")
    with pytest.raises(TypeError):
        display.price(Decimal("45.5"), "GBP", "GB")


def test_an_unknown_country_falls_back_to_british_english():
    assert str(display.locale_for("ZZ")) == "en_GB"
    assert str(display.locale_for("AU")) == "en_AU"


# Creating and editing services ------------------------------------------------------------------


def test_owner_adds_a_service_with_its_first_price_from_today(app, client, auth, clinic_a):
    schedule = build_schedule(app, clinic_a)
    auth.login_as("owner", clinic_a)
    assert "Add a service" in _text(client.get(f"{MENU}/"))
    response = client.post_form(
        f"{MENU}/new", _new_service(therapists=[str(schedule.therapist_id)])
    )
    assert response.status_code == 302, _text(response)

    def added():
        service = db.session.scalar(select(Service).where(Service.name == "Sports massage 45"))
        offered = db.session.scalars(
            select(ServiceTherapist.therapist_id).where(ServiceTherapist.service_id == service.id)
        ).all()
        return service, offered

    service, offered = _in_clinic(app, clinic_a, added)
    assert (service.category, service.duration_minutes, service.buffer_minutes) == (
        "maintenance",
        45,
        15,
    )
    assert service.bookable_online and service.active and service.tax_rate_id is None
    assert offered == [schedule.therapist_id]
    assert _prices(app, clinic_a, service.id) == [(4500, _today(app, clinic_a), None)]
    page = _text(client.get(f"{MENU}/"))
    assert "Sports massage 45" in page and "£45.00" in page and "+ 15 min buffer" in page


def test_manager_edits_a_service(app, client, auth, clinic_a):
    schedule = build_schedule(app, clinic_a)
    menu = build_menu(app, schedule)
    auth.login_as("manager", clinic_a)
    url = f"{MENU}/{schedule.service_id}/edit"
    assert "Sports massage 60" in _text(client.get(url))
    response = client.post_form(
        url,
        _new_service(
            name="Deep tissue 75",
            category="events",
            duration_minutes="75",
            buffer_minutes="0",
            tax_rate=str(menu.tax_rate_id),
            bookable_online=None,
            price=None,
        ),
    )
    assert response.status_code == 302, _text(response)
    service = _service(app, clinic_a, schedule.service_id)
    assert (service.name, service.category, service.duration_minutes) == (
        "Deep tissue 75",
        "events",
        75,
    )
    assert service.tax_rate_id == menu.tax_rate_id and not service.bookable_online
    offered = _in_clinic(
        app,
        clinic_a,
        lambda: db.session.scalar(select(func.count()).select_from(ServiceTherapist)),
    )
    assert offered == 0  # nobody ticked: nobody offers it any more
    page = _text(client.get(f"{MENU}/"))
    assert "VAT 20%" in page and "Reception only" in page
    assert "£60.00" in page  # editing never touches the price


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"price": "-5"}, "price", "cannot be negative"),
        ({"price": "abc"}, "price", "Enter a number"),
        ({"price": "2000000"}, "price", "too large"),
        ({"price": "99999999999"}, "price", "too large"),
        ({"price": "45.505"}, "price", "2 decimal places at most"),
        ({"price": ""}, "price", "Enter an amount"),
        ({"duration_minutes": "0"}, "duration_minutes", "From 5 to 480 minutes"),
        ({"duration_minutes": "1000"}, "duration_minutes", "From 5 to 480 minutes"),
        ({"duration_minutes": "sixty"}, "duration_minutes", "Not a valid integer"),
        ({"buffer_minutes": "121"}, "buffer_minutes", "From 0 to 120 minutes"),
        ({"name": "  "}, "name", "Give the service a name"),
        ({"category": "no_such_category"}, "category", "Not a valid choice"),
        ({"tax_rate": str(uuid.uuid4())}, "tax_rate", "Not a valid choice"),
    ],
)
def test_bad_service_input_is_refused_beside_its_field_and_nothing_is_stored(
    app, client, auth, clinic_a, changes, field, message
):
    auth.login_as("owner", clinic_a)
    response = client.post_form(f"{MENU}/new", _new_service(**changes))
    assert response.status_code == 400
    page = _text(response)
    assert f'data-testid="error-{field}"' in page
    assert message in page
    assert _count(app, clinic_a, Service) == 0
    assert _count(app, clinic_a, ServicePrice) == 0


def test_a_jpy_clinic_takes_whole_yen_only(app, client, auth):
    tokyo = make_clinic(app, "tokyo", "Tokyo Sports Care", currency="JPY")
    auth.login_as("owner", tokyo)
    refused = client.post_form("/c/tokyo/menu/new", _new_service(price="45.5"))
    assert refused.status_code == 400
    assert "JPY has no minor unit: enter a whole amount." in _text(refused)
    assert _count(app, tokyo, Service) == 0

    assert client.post_form("/c/tokyo/menu/new", _new_service(price="5500")).status_code == 302
    service_id = _in_clinic(app, tokyo, lambda: db.session.scalar(select(Service.id)))
    assert [p[0] for p in _prices(app, tokyo, service_id)] == [5500]


def test_editing_with_bad_input_changes_nothing(app, client, auth, clinic_a):
    schedule = build_schedule(app, clinic_a)
    auth.login_as("owner", clinic_a)
    response = client.post_form(
        f"{MENU}/{schedule.service_id}/edit",
        _new_service(name="Renamed", duration_minutes="1000", price=None),
    )
    assert response.status_code == 400
    assert "From 5 to 480 minutes" in _text(response)
    service = _service(app, clinic_a, schedule.service_id)
    assert (service.name, service.duration_minutes) == ("Sports massage 60", 60)


def test_services_move_up_and_down_within_their_category(app, client, auth, clinic_a):
    first, second, third = _add_services(app, clinic_a, 3)
    auth.login_as("manager", clinic_a)
    response = client.post_form(f"{MENU}/{third}/move", {"direction": "up"})
    assert response.status_code == 302
    page = _text(client.get(f"{MENU}/"))
    assert page.index("svc 0") < page.index("svc 2") < page.index("svc 1")
    client.post_form(f"{MENU}/{first}/move", {"direction": "up"})  # already first: no change
    client.post_form(f"{MENU}/{first}/move", {"direction": "down"})
    page = _text(client.get(f"{MENU}/"))
    assert page.index("svc 2") < page.index("svc 0") < page.index("svc 1")
    assert client.post_form(f"{MENU}/{second}/move", {"direction": "sideways"}).status_code == 400


# Price history -----------------------------------------------------------------------------------


def _book(app, clinic_fixture, schedule, day: date):
    """Book the schedule's client with its therapist at 10:00 local on `day`; the snapshot."""

    def create():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        get = lambda model, key: db.session.scalar(select(model).where(model.id == key))  # noqa: E731
        appointment = booking.book(
            clinic,
            client=get(Client, schedule.client_id),
            therapist=get(Therapist, schedule.therapist_id),
            service=get(Service, schedule.service_id),
            location=get(Location, schedule.location_id),
            starts_at=datetime.combine(day, time(10), tzinfo=clinic.tz),
        )
        return appointment.price_minor

    return _in_clinic(app, clinic_fixture, create, commit=True)


def _weekday_after(day: date, days: int) -> date:
    day = day + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_a_change_for_next_week_leaves_todays_price_and_earlier_bookings_alone(
    app, client, auth, clinic_a
):
    schedule = build_schedule(app, clinic_a)  # 60.00 since 2020
    today = _today(app, clinic_a)
    later = _weekday_after(today, 14)
    assert _book(app, clinic_a, schedule, later) == 6000  # booked before the change

    auth.login_as("owner", clinic_a)
    next_week = today + timedelta(days=7)
    response = client.post_form(
        f"{MENU}/{schedule.service_id}/prices",
        {"price": "70", "effective_from": next_week.isoformat(), "tier": ""},
    )
    assert response.status_code == 302, _text(response)

    def snapshot():
        service = db.session.scalar(select(Service).where(Service.id == schedule.service_id))
        return price_for(service, today), price_for(service, later)

    assert _in_clinic(app, clinic_a, snapshot) == (6000, 7000)
    booked = _in_clinic(
        app,
        clinic_a,
        lambda: db.session.scalars(select(Appointment.price_minor)).all(),
    )
    assert booked == [6000]  # its own snapshot: the change does not reach it
    assert _book(app, clinic_a, schedule, _weekday_after(later, 1)) == 7000  # booked after

    page = _text(client.get(f"{MENU}/"))
    day = f"{next_week.day} {next_week:%b} {next_week.year}"
    assert "£60.00" in page and f"£70.00 from {day}" in page


def test_a_price_change_cannot_be_backdated(app, client, auth, clinic_a):
    schedule = build_schedule(app, clinic_a)
    auth.login_as("owner", clinic_a)
    yesterday = _today(app, clinic_a) - timedelta(days=1)
    response = client.post_form(
        f"{MENU}/{schedule.service_id}/prices",
        {"price": "70", "effective_from": yesterday.isoformat(), "tier": ""},
    )
    assert response.status_code == 400
    page = _text(response)
    assert 'data-testid="error-effective_from"' in page and "cannot be backdated" in page
    assert _prices(app, clinic_a, schedule.service_id) == [(6000, date(2020, 1, 1), None)]


@pytest.mark.parametrize(
    ("price", "message"),
    [("-1", "cannot be negative"), ("5000000", "too large"), ("12.345", "2 decimal places")],
)
def test_absurd_price_changes_are_refused(app, client, auth, clinic_a, price, message):
    schedule = build_schedule(app, clinic_a)
    auth.login_as("manager", clinic_a)
    response = client.post_form(
        f"{MENU}/{schedule.service_id}/prices",
        {"price": price, "effective_from": _today(app, clinic_a).isoformat(), "tier": ""},
    )
    assert response.status_code == 400
    assert message in _text(response)
    assert len(_prices(app, clinic_a, schedule.service_id)) == 1


def test_a_scheduled_change_can_be_withdrawn_but_not_one_in_force(app, client, auth, clinic_a):
    schedule = build_schedule(app, clinic_a)
    auth.login_as("owner", clinic_a)
    url = f"{MENU}/{schedule.service_id}/prices"
    today = _today(app, clinic_a)
    for day, amount in ((today, "65"), (today + timedelta(days=10), "70")):
        client.post_form(url, {"price": amount, "effective_from": day.isoformat(), "tier": ""})

    def rows():
        return {
            row.price_minor: row.id
            for row in db.session.scalars(
                select(ServicePrice).where(ServicePrice.service_id == schedule.service_id)
            )
        }

    ids = _in_clinic(app, clinic_a, rows)
    history = _text(client.get(url))
    assert history.count('data-testid="price-row"') == 3 and "Scheduled" in history

    refused = client.post_form(f"{url}/{ids[6500]}/withdraw")
    assert refused.status_code == 400 and "cannot be withdrawn" in _text(refused)
    assert client.post_form(f"{url}/{ids[7000]}/withdraw").status_code == 302
    assert set(_in_clinic(app, clinic_a, rows)) == {6000, 6500}


def test_a_tier_price_applies_to_that_tiers_therapists(app, client, auth, clinic_a):
    schedule = build_schedule(app, clinic_a)
    auth.login_as("owner", clinic_a)
    assert client.post_form(f"{MENU}/tiers", {"name": "Senior"}).status_code == 302
    tier_id = _in_clinic(app, clinic_a, lambda: db.session.scalar(select(PriceTier.id)))
    response = client.post_form(
        f"{MENU}/tiers/{tier_id}", {"name": "Senior", "therapists": [str(schedule.therapist_id)]}
    )
    assert response.status_code == 302, _text(response)
    response = client.post_form(
        f"{MENU}/{schedule.service_id}/prices",
        {
            "price": "75",
            "effective_from": _today(app, clinic_a).isoformat(),
            "tier": str(tier_id),
        },
    )
    assert response.status_code == 302, _text(response)
    assert "Senior £75.00" in _text(client.get(f"{MENU}/"))
    assert _book(app, clinic_a, schedule, _weekday_after(_today(app, clinic_a), 3)) == 7500


# Categories --------------------------------------------------------------------------------------


def _category(app, clinic_fixture, key) -> Category | None:
    return _in_clinic(
        app, clinic_fixture, lambda: db.session.scalar(select(Category).where(Category.key == key))
    )


def test_categories_are_added_renamed_and_reordered(app, client, auth, clinic_a):
    auth.login_as("manager", clinic_a)
    page = _text(client.get(f"{MENU}/categories"))
    assert [name in page for name in ("Pre-event", "Post-event", "Rehab", "Maintenance")] == [
        True
    ] * 4
    assert client.post_form(f"{MENU}/categories", {"name": "At events"}).status_code == 302
    added = _category(app, clinic_a, "at_events")
    assert added is not None and added.position == 4

    duplicate = client.post_form(f"{MENU}/categories", {"name": "rehab"})
    assert duplicate.status_code == 400 and "already a category called Rehab" in _text(duplicate)

    response = client.post_form(f"{MENU}/categories/{added.id}", {"name": "Race day"})
    assert response.status_code == 302
    assert _category(app, clinic_a, "at_events").name == "Race day"

    client.post_form(f"{MENU}/categories/{added.id}/move", {"direction": "up"})
    page = _text(client.get(f"{MENU}/categories"))
    assert page.index("Rehab") < page.index("Race day") < page.index("Maintenance")


def test_a_category_in_use_cannot_be_deleted_and_says_by_which_services(
    app, client, auth, clinic_a
):
    _add_services(app, clinic_a, 2, tag="Rehab follow-up")
    rehab = _category(app, clinic_a, "rehab")
    unused = _category(app, clinic_a, "pre_event")
    auth.login_as("owner", clinic_a)
    response = client.post_form(f"{MENU}/categories/{rehab.id}/delete")
    assert response.status_code == 400
    assert "Rehab is used by Rehab follow-up 0, Rehab follow-up 1" in _text(response)
    assert _category(app, clinic_a, "rehab") is not None

    assert client.post_form(f"{MENU}/categories/{unused.id}/delete").status_code == 302
    assert _category(app, clinic_a, "pre_event") is None


# Tax -----------------------------------------------------------------------------------------


def _rates(app, clinic_fixture) -> dict[str, tuple]:
    return _in_clinic(
        app,
        clinic_fixture,
        lambda: {
            r.name: (r.rate_bp, r.treatment, r.active) for r in db.session.scalars(select(TaxRate))
        },
    )


@pytest.mark.parametrize(
    ("rate", "message"),
    [
        ("120", "A tax rate is at most 100%."),
        ("12.345", "Use at most 2 decimals"),
        ("-5", "cannot be negative"),
        ("twenty", "Enter the rate as a percentage"),
        ("", "Enter the rate as a percentage"),
    ],
)
def test_bad_tax_rates_are_refused(app, client, auth, clinic_a, rate, message):
    auth.login_as("owner", clinic_a)
    response = client.post_form(
        f"{MENU}/tax-rates", {"name": "VAT", "treatment": "standard", "rate": rate}
    )
    assert response.status_code == 400
    assert 'data-testid="error-rate"' in _text(response) and message in _text(response)
    assert _rates(app, clinic_a) == {}


def test_tax_rates_are_added_edited_and_deactivated(app, client, auth, clinic_a):
    auth.login_as("manager", clinic_a)
    for data in (
        {"name": "VAT 20%", "treatment": "standard", "rate": "20"},
        {"name": "Reduced", "treatment": "standard", "rate": "13.5 %"},
        {"name": "Health professional", "treatment": "exempt", "rate": "20"},
    ):
        assert client.post_form(f"{MENU}/tax-rates", data).status_code == 302
    assert _rates(app, clinic_a) == {
        "VAT 20%": (2000, TaxTreatment.STANDARD, True),
        "Reduced": (1350, TaxTreatment.STANDARD, True),
        "Health professional": (0, TaxTreatment.EXEMPT, True),  # exempt carries no rate
    }
    reduced = _in_clinic(
        app, clinic_a, lambda: db.session.scalar(select(TaxRate).where(TaxRate.name == "Reduced"))
    )
    url = f"{MENU}/tax-rates/{reduced.id}"
    assert "13.5" in _text(client.get(url))
    response = client.post_form(url, {"name": "Reduced", "treatment": "zero_rated", "rate": "5"})
    assert response.status_code == 302
    assert _rates(app, clinic_a)["Reduced"] == (0, TaxTreatment.ZERO_RATED, True)

    assert client.post_form(f"{url}/active", {"active": ""}).status_code == 302
    assert _rates(app, clinic_a)["Reduced"][2] is False
    assert "Not offered" in _text(client.get(f"{MENU}/tax-rates"))
    choices = _text(client.get(f"{MENU}/new"))
    assert "VAT 20%" in choices and "Reduced" not in choices  # not offered for new choices


def test_prices_include_tax_is_a_clinic_setting(app, client, auth, clinic_a):
    auth.login_as("manager", clinic_a)
    assert "prices include tax" in _text(client.get(f"{MENU}/"))
    assert client.post_form(f"{MENU}/tax-setting", {}).status_code == 302
    with app.app_context():
        assert db.session.get(Clinic, clinic_a.clinic_id).prices_include_tax is False
    assert "tax is added to these prices" in _text(client.get(f"{MENU}/"))
    client.post_form(f"{MENU}/tax-setting", {"prices_include_tax": "y"})
    with app.app_context():
        assert db.session.get(Clinic, clinic_a.clinic_id).prices_include_tax is True


# Who may change the menu -------------------------------------------------------------------------


def _menu_urls(app, ids: dict[str, str], method: str) -> list[str]:
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint.split(".")[0] != "menu" or method not in rule.methods:
                continue
            params = {name: ids[name] for name in rule.arguments - {"clinic_slug"}}
            urls.append(url_for(rule.endpoint, clinic_slug="northside", **params))
    return urls


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.THERAPIST])
def test_receptionists_and_therapists_see_the_menu_but_cannot_change_it(
    app, client, auth, clinic_a, role
):
    schedule = build_schedule(app, clinic_a)
    menu = build_menu(app, schedule)
    category_id = _category(app, clinic_a, "rehab").id
    ids = {
        "service_id": str(schedule.service_id),
        "price_id": str(menu.price_id),
        "category_id": str(category_id),
        "tax_rate_id": str(menu.tax_rate_id),
        "tier_id": str(menu.tier_id),
    }
    auth.login_as(role, clinic_a)
    page = client.get(f"{MENU}/")
    assert page.status_code == 200
    text = _text(page)
    assert "Sports massage 60" in text and "£60.00" in text
    assert 'data-testid="edit-controls"' not in text
    assert 'data-testid="menu-tabs"' not in text
    assert "Add a service" not in text and "/edit" not in text and "/move" not in text
    assert "Your public price list" in text

    posts = _menu_urls(app, ids, "POST")
    assert len(posts) >= 12
    for url in posts:
        response = client.post_form(
            url, {"name": "Cheap", "price": "1", "direction": "up", "rate": "0"}
        )
        assert response.status_code == 403, url
    for url in _menu_urls(app, ids, "GET"):
        expected = 200 if url == f"{MENU}/" else 403
        assert client.get(url).status_code == expected, url
    assert _prices(app, clinic_a, schedule.service_id)[0][0] == 6000
    assert _service(app, clinic_a, schedule.service_id).name == "Sports massage 60"


def test_another_clinics_service_is_not_found(app, client, auth, clinic_a, clinic_b):
    schedule = build_schedule(app, clinic_a)
    auth.login_as("owner", clinic_b)
    assert client.get(f"/c/harbour/menu/{schedule.service_id}/edit").status_code == 404
    assert client.get("/c/harbour/menu/not-a-uuid/prices").status_code == 404


# Cost -----------------------------------------------------------------------------------------


def test_the_menu_page_costs_the_same_queries_for_3_services_as_for_40(
    app, client, auth, clinic_a, count_queries
):
    schedule = build_schedule(app, clinic_a)
    build_menu(app, schedule)  # a tax rate, a tier, a category of its own, a future price

    def extras(ids):
        def create():
            vat = db.session.scalar(select(TaxRate.id))
            tier = db.session.scalar(select(PriceTier.id))
            for n, service_id in enumerate(ids):
                service = db.session.scalar(select(Service).where(Service.id == service_id))
                service.tax_rate_id = vat
                db.session.add_all(
                    [
                        ServicePrice(
                            service_id=service_id,
                            tier_id=tier,
                            price_minor=5000 + n,
                            effective_from=date(2021, 1, 1),
                        ),
                        ServicePrice(
                            service_id=service_id,
                            price_minor=4800 + n,
                            effective_from=date(2099, 1, 1),
                        ),
                    ]
                )

        _in_clinic(app, clinic_a, create, commit=True)

    extras(_add_services(app, clinic_a, 2, tag="few"))
    auth.login_as("owner", clinic_a)
    few, page = count_queries(lambda: client.get(f"{MENU}/"))
    assert page.status_code == 200
    assert _text(page).count('data-testid="service"') == 3

    extras(_add_services(app, clinic_a, 37, tag="many", category="maintenance"))
    many, page = count_queries(lambda: client.get(f"{MENU}/"))
    text = _text(page)
    assert text.count('data-testid="service"') == 40
    assert text.count('data-testid="upcoming"') == 40  # 39 + the factory's future price
    assert many == few, f"{few} statements for 3 services, {many} for 40"


def test_the_prices_in_force_are_the_latest_started_per_tier():
    today = date(2031, 3, 3)
    tier = uuid.uuid4()

    def row(tier_id, effective_from):
        return ServicePrice(id=uuid.uuid4(), tier_id=tier_id, effective_from=effective_from)

    newest_first = [
        next_week := row(None, today + timedelta(days=7)),
        standard := row(None, today),
        row(None, today - timedelta(days=30)),
        tiered := row(tier, today - timedelta(days=1)),
        row(tier, today - timedelta(days=60)),
    ]
    assert in_force_ids(newest_first, today) == {standard.id, tiered.id}
    assert next_week.id not in in_force_ids(newest_first, today + timedelta(days=6))
