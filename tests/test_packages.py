"""Packages: sold at the day's terms, one session per completed appointment, expiry, refunds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from clinic_saas import tenancy
from clinic_saas.clinic_time import add_months
from clinic_saas.extensions import db
from clinic_saas.menu import offers
from clinic_saas.menu.offers import OfferError
from clinic_saas.models import (
    Appointment,
    Client,
    Clinic,
    Package,
    PackageRedemption,
    PackageSale,
    Service,
)
from clinic_saas.sales import entitlements, memberships, packages
from clinic_saas.sales.packages import PackageError
from clinic_saas.scheduling import booking

from .factories import build_schedule

TODAY = date(2031, 3, 3)  # a Monday


@pytest.fixture
def world(app, clinic_a):
    """A bound app context with a schedule: yields a dict of its loaded rows."""
    schedule = build_schedule(app, clinic_a)
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        tenancy.bind(clinic)
        key = lambda ident: (clinic.id, ident)  # noqa: E731
        yield {
            "clinic": clinic,
            "schedule": schedule,
            "client": db.session.get(Client, key(schedule.client_id)),
            "service": db.session.get(Service, key(schedule.service_id)),
        }
        db.session.rollback()


def _package(world, sessions=6, price=30000, months=6):
    return offers.save_package(
        None,
        name="Rehab course",
        sessions_count=sessions,
        price_minor=price,
        validity_months=months,
        service_ids=[world["service"].id],
    )


def _completed_appointment(world, day: date, client=None) -> Appointment:
    from clinic_saas.models import Location, Therapist

    clinic, schedule = world["clinic"], world["schedule"]
    appointment = booking.book(
        clinic,
        client=client or world["client"],
        therapist=db.session.get(Therapist, (clinic.id, schedule.therapist_id)),
        service=world["service"],
        location=db.session.get(Location, (clinic.id, schedule.location_id)),
        starts_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10),
    )
    booking.check_in(appointment)
    booking.complete(clinic, appointment, now=appointment.starts_at)
    return appointment


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sessions": 0}, "between 1 and 100 sessions"),
        ({"price": -1}, "zero or more"),
        ({"months": 0}, "1 to 60 months"),
    ],
)
def test_a_package_needs_sensible_terms(world, changes, message):
    with pytest.raises(OfferError, match=message):
        _package(world, **changes)


def test_a_package_needs_a_service(world):
    with pytest.raises(OfferError, match="at least one service"):
        offers.save_package(
            None, name="Empty", sessions_count=3, price_minor=100, validity_months=1, service_ids=[]
        )


def test_a_sale_keeps_the_terms_of_the_day_it_was_sold(world):
    package = _package(world)
    sale = packages.sell(package, world["client"], TODAY)
    offers.save_package(
        package,
        name="Rehab course (new)",
        sessions_count=8,
        price_minor=36000,
        validity_months=3,
        service_ids=[world["service"].id],
    )
    db.session.refresh(sale)
    assert (sale.name, sale.sessions_total, sale.price_minor) == ("Rehab course", 6, 30000)
    assert sale.expires_on == date(2031, 9, 2)  # six months, less a day


def test_month_arithmetic_clamps_to_the_end_of_short_months():
    assert add_months(date(2031, 1, 31), 1) == date(2031, 2, 28)
    assert add_months(date(2032, 1, 31), 1) == date(2032, 2, 29)
    assert add_months(date(2031, 11, 15), 3) == date(2032, 2, 15)


def test_completing_an_appointment_uses_one_session_once(world):
    sale = packages.sell(_package(world), world["client"], TODAY)
    appointment = _completed_appointment(world, TODAY)
    first = entitlements.apply_on_completion(appointment, TODAY)
    again = entitlements.apply_on_completion(appointment, TODAY)
    assert isinstance(first, PackageRedemption) and again.id == first.id
    assert packages.balance(sale) == 5
    with pytest.raises(PackageError, match="already paid"):
        other = packages.sell(_package(world), world["client"], TODAY)
        packages.redeem(other, appointment, TODAY)


def test_an_exhausted_package_cannot_be_redeemed(world):
    sale = packages.sell(_package(world, sessions=1, price=5000), world["client"], TODAY)
    packages.redeem(sale, _completed_appointment(world, TODAY), TODAY)
    second = _completed_appointment(world, TODAY + timedelta(days=1))
    with pytest.raises(PackageError, match="used up"):
        packages.redeem(sale, second, TODAY + timedelta(days=1))
    assert entitlements.apply_on_completion(second, TODAY + timedelta(days=1)) is None


def test_an_expired_package_cannot_be_redeemed_or_refunded(world):
    sale = packages.sell(_package(world, months=1), world["client"], TODAY)
    late = TODAY + timedelta(days=42)  # a Monday, past the one-month validity
    appointment = _completed_appointment(world, late)
    with pytest.raises(PackageError, match="expired"):
        packages.redeem(sale, appointment, late)
    with pytest.raises(PackageError, match="no refund"):
        packages.refund_quote(sale, late)


def test_a_package_is_not_used_for_another_client_or_service(world):
    sale = packages.sell(_package(world), world["client"], TODAY)
    stranger = Client(first_name="Bo", last_name="Other", email="bo@example.com")
    db.session.add(stranger)
    db.session.flush()
    appointment = _completed_appointment(world, TODAY, client=stranger)
    with pytest.raises(PackageError, match="another client"):
        packages.redeem(sale, appointment, TODAY)


def test_unused_sessions_are_refunded_pro_rata_half_up(world):
    sale = packages.sell(_package(world, sessions=6, price=29999), world["client"], TODAY)
    packages.redeem(sale, _completed_appointment(world, TODAY), TODAY)
    # 29999 x 5 / 6 = 24999.17 -> 24999
    assert packages.refund_quote(sale, TODAY) == 24999
    assert packages.refund(sale, TODAY) == 24999
    assert sale.refund_minor == 24999
    with pytest.raises(PackageError, match="already been refunded"):
        packages.refund(sale, TODAY)
    later = _completed_appointment(world, TODAY + timedelta(days=1))
    with pytest.raises(PackageError, match="refunded"):
        packages.redeem(sale, later, TODAY + timedelta(days=1))


def test_a_reversed_redemption_gives_the_session_back(world):
    sale = packages.sell(_package(world), world["client"], TODAY)
    redemption = packages.redeem(sale, _completed_appointment(world, TODAY), TODAY)
    packages.reverse(redemption)
    assert packages.balance(sale) == 6
    assert db.session.get(PackageRedemption, (sale.clinic_id, redemption.id)).reversed_at


def test_the_package_expiring_soonest_is_used_first(world):
    later = packages.sell(_package(world, months=12), world["client"], TODAY)
    sooner = packages.sell(_package(world, months=2), world["client"], TODAY)
    paid = entitlements.apply_on_completion(_completed_appointment(world, TODAY), TODAY)
    assert paid.sale_id == sooner.id
    assert packages.balance(later) == 6


def test_a_membership_session_is_used_before_a_package(world):
    sale = packages.sell(_package(world), world["client"], TODAY)
    plan = offers.save_plan(
        None,
        name="Monthly maintenance",
        price_minor=5000,
        sessions_per_period=1,
        service_ids=[world["service"].id],
    )
    memberships.enrol(plan, world["client"], TODAY, TODAY)
    first = entitlements.apply_on_completion(_completed_appointment(world, TODAY), TODAY)
    second_day = TODAY + timedelta(days=1)
    second = entitlements.apply_on_completion(_completed_appointment(world, second_day), second_day)
    assert type(first).__name__ == "MembershipUse"
    assert isinstance(second, PackageRedemption) and second.sale_id == sale.id


def test_inactive_packages_are_not_sold(world):
    package = _package(world)
    package.active = False
    with pytest.raises(PackageError, match="no longer on sale"):
        packages.sell(package, world["client"], TODAY)
    assert db.session.scalars(db.select(PackageSale)).all() == []
    assert isinstance(package, Package)


def test_completing_through_the_entitlements_completes_and_pays_with_a_package(world):
    from clinic_saas.models import AppointmentStatus, Location, Therapist

    sale = packages.sell(_package(world), world["client"], TODAY)
    clinic, schedule = world["clinic"], world["schedule"]
    appointment = booking.book(
        clinic,
        client=world["client"],
        therapist=db.session.get(Therapist, (clinic.id, schedule.therapist_id)),
        service=world["service"],
        location=db.session.get(Location, (clinic.id, schedule.location_id)),
        starts_at=datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10),
    )
    booking.check_in(appointment)
    paid = entitlements.complete_and_apply(clinic, appointment, now=appointment.starts_at)
    assert appointment.status == AppointmentStatus.COMPLETED
    assert isinstance(paid, PackageRedemption) and paid.appointment_id == appointment.id
    assert packages.balance(sale) == 5
