"""A client's purchases, read once for the sales desk and the record export, at a fixed cost."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import (
    Client,
    ClientMembership,
    ClientMembershipStatus,
    Clinic,
    MembershipPeriod,
    MembershipPlan,
    MembershipUse,
    PackageRedemption,
    PackageSale,
)
from clinic_saas.sales.purchases import purchases_of

from .factories import add_appointment, build_menu, build_schedule

TODAY = date(2031, 3, 10)


def _appointments(app, schedule, n: int) -> Iterator[uuid.UUID]:
    """n past appointments of one therapist, an hour apart: one for each session used."""
    start = datetime(2031, 3, 3, 9, tzinfo=UTC)
    return iter([add_appointment(app, schedule, start + timedelta(hours=2 * i)) for i in range(n)])


def _buy(client_id, menu, appointments, n: int) -> None:
    """n package sales (each with one session used) and n memberships of two periods each, each
    of its own plan (a client has one live membership per plan)."""
    for i in range(n):
        plan = MembershipPlan(name=f"Plan {i}", price_minor=5000, sessions_per_period=2)
        db.session.add(plan)
        db.session.flush()
        sale = PackageSale(
            package_id=menu.package_id,
            client_id=client_id,
            name=f"Course {i}",
            sessions_total=3,
            price_minor=9000,
            sold_on=date(2031, 1, 1) + timedelta(days=i),
            expires_on=date(2031, 7, 1),
        )
        membership = ClientMembership(
            plan_id=plan.id,
            client_id=client_id,
            name=f"Plan {i}",
            price_minor=5000,
            sessions_per_period=2,
            started_on=date(2031, 2, 1) + timedelta(days=i),
            anchor_on=date(2031, 2, 1),
        )
        db.session.add_all([sale, membership])
        db.session.flush()
        first = MembershipPeriod(
            membership_id=membership.id,
            starts_on=date(2031, 2, 1),
            ends_on=date(2031, 3, 1),
            sessions_allowed=2,
        )
        current = MembershipPeriod(
            membership_id=membership.id,
            starts_on=date(2031, 3, 1),
            ends_on=date(2031, 4, 1),
            sessions_allowed=2,
        )
        db.session.add_all([first, current])
        db.session.flush()
        db.session.add_all(
            [
                PackageRedemption(sale_id=sale.id, appointment_id=next(appointments)),
                MembershipUse(period_id=current.id, appointment_id=next(appointments)),
            ]
        )
    db.session.flush()


def test_purchases_cost_the_same_statements_for_1_and_for_5(app, clinic_a, count_queries):
    schedule = build_schedule(app, clinic_a)
    menu = build_menu(app, schedule, today=date(2031, 3, 3))
    appointments = _appointments(app, schedule, 12)
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            one = Client(first_name="One", last_name="Buyer")
            five = Client(first_name="Five", last_name="Buyer")
            db.session.add_all([one, five])
            db.session.flush()
            _buy(one.id, menu, appointments, 1)
            _buy(five.id, menu, appointments, 5)

            cost_one, bought_one = count_queries(lambda: purchases_of(one, TODAY))
            cost_five, bought_five = count_queries(lambda: purchases_of(five, TODAY))
            db.session.rollback()

    assert (len(bought_one.packages), len(bought_one.memberships)) == (1, 1)
    assert (len(bought_five.packages), len(bought_five.memberships)) == (5, 5)
    assert cost_one == cost_five == 5  # sales, their uses, memberships, periods, their uses


def test_purchases_say_what_is_used_left_and_running(app, clinic_a):
    schedule = build_schedule(app, clinic_a)
    menu = build_menu(app, schedule, today=date(2031, 3, 3))
    appointments = _appointments(app, schedule, 4)
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            buyer = Client(first_name="Bea", last_name="Buyer")
            db.session.add(buyer)
            db.session.flush()
            _buy(buyer.id, menu, appointments, 2)
            bought = purchases_of(buyer, TODAY)
            later = purchases_of(buyer, date(2031, 7, 2))
            db.session.rollback()

    sale = bought.packages[0]
    assert [s.name for s in bought.packages] == ["Course 0", "Course 1"]  # oldest first
    assert (sale.sessions_total, sale.sessions_used, sale.sessions_left) == (3, 1, 2)
    assert (sale.status, later.packages[0].status) == ("active", "expired")
    membership = bought.memberships[0]
    assert membership.status == ClientMembershipStatus.ACTIVE
    assert [(p.starts_on, p.sessions_allowed, p.sessions_used) for p in membership.periods] == [
        (date(2031, 2, 1), 2, 0),
        (date(2031, 3, 1), 2, 1),
    ]
    assert membership.current == membership.periods[1] and membership.current.sessions_left == 1
    assert membership.sessions_used == 1 and membership.next_start is None
    assert later.memberships[0].current is None
