"""Maintenance memberships: monthly periods that roll, pauses, cancellations, allowances."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.menu import offers
from clinic_saas.menu.offers import OfferError
from clinic_saas.models import Client, ClientMembershipStatus, Clinic, Service
from clinic_saas.sales import memberships
from clinic_saas.sales.memberships import MembershipError

from .factories import build_schedule


@pytest.fixture
def world(app, clinic_a):
    schedule = build_schedule(app, clinic_a)
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        tenancy.bind(clinic)
        client = db.session.get(Client, (clinic.id, schedule.client_id))
        service = db.session.get(Service, (clinic.id, schedule.service_id))
        plan = offers.save_plan(
            None,
            name="Monthly maintenance",
            price_minor=5000,
            sessions_per_period=2,
            service_ids=[service.id],
        )
        yield {"client": client, "plan": plan}
        db.session.rollback()


def _spans(membership):
    return [(p.starts_on, p.ends_on) for p in memberships.periods_of(membership)]


def test_periods_roll_monthly_from_the_start_and_clamp_short_months(world):
    m = memberships.enrol(world["plan"], world["client"], date(2031, 1, 31), date(2031, 1, 31))
    assert _spans(m) == [(date(2031, 1, 31), date(2031, 2, 28))]
    added = memberships.roll_periods(m, date(2031, 4, 2))
    assert len(added) == 2
    assert _spans(m) == [
        (date(2031, 1, 31), date(2031, 2, 28)),
        (date(2031, 2, 28), date(2031, 3, 31)),
        (date(2031, 3, 31), date(2031, 4, 30)),
    ]
    assert memberships.roll_periods(m, date(2031, 4, 2)) == []  # idempotent


def test_a_paused_membership_gets_no_new_period_and_resumes_from_that_day(world):
    m = memberships.enrol(world["plan"], world["client"], date(2031, 3, 10), date(2031, 3, 10))
    memberships.pause(m, date(2031, 3, 20))
    assert memberships.roll_periods(m, date(2031, 6, 1)) == []
    memberships.resume(m, date(2031, 6, 5))
    assert m.status == ClientMembershipStatus.ACTIVE
    assert _spans(m)[-1] == (date(2031, 6, 5), date(2031, 7, 5))
    memberships.roll_periods(m, date(2031, 7, 5))
    assert _spans(m)[-1] == (date(2031, 7, 5), date(2031, 8, 5))


def test_resuming_inside_the_running_period_changes_nothing(world):
    m = memberships.enrol(world["plan"], world["client"], date(2031, 3, 10), date(2031, 3, 10))
    memberships.pause(m, date(2031, 3, 12))
    memberships.resume(m, date(2031, 3, 15))
    assert _spans(m) == [(date(2031, 3, 10), date(2031, 4, 10))]


def test_a_cancelled_membership_runs_out_its_period(world):
    m = memberships.enrol(world["plan"], world["client"], date(2031, 3, 10), date(2031, 3, 10))
    memberships.cancel(m, date(2031, 3, 20))
    assert memberships.period_on(m, date(2031, 4, 9)) is not None
    assert memberships.roll_periods(m, date(2031, 5, 1)) == []
    with pytest.raises(MembershipError, match="already cancelled"):
        memberships.cancel(m, date(2031, 3, 21))


def test_enrolment_rules(world):
    today = date(2031, 3, 10)
    with pytest.raises(MembershipError, match="past"):
        memberships.enrol(world["plan"], world["client"], today - timedelta(days=1), today)
    memberships.enrol(world["plan"], world["client"], today, today)
    with pytest.raises(MembershipError, match="already a member"):
        memberships.enrol(world["plan"], world["client"], today, today)
    world["plan"].active = False
    other = Client(first_name="New", last_name="Member")
    db.session.add(other)
    db.session.flush()
    with pytest.raises(MembershipError, match="closed to new members"):
        memberships.enrol(world["plan"], other, today, today)


def test_a_member_keeps_the_price_they_joined_at(world):
    m = memberships.enrol(world["plan"], world["client"], date(2031, 3, 10), date(2031, 3, 10))
    offers.save_plan(
        world["plan"],
        name="Monthly maintenance",
        price_minor=6500,
        sessions_per_period=1,
        service_ids=offers.plan_service_ids(world["plan"].id),
    )
    memberships.roll_periods(m, date(2031, 4, 10))
    assert m.price_minor == 5000
    assert [p.sessions_allowed for p in memberships.periods_of(m)] == [2, 2]


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"sessions_per_period": 0}, "1 to 31"), ({"price_minor": -5}, "zero or more")],
)
def test_plans_need_sensible_terms(world, changes, message):
    terms = {"name": "X", "price_minor": 100, "sessions_per_period": 1}
    terms.update(changes)
    with pytest.raises(OfferError, match=message):
        offers.save_plan(None, service_ids=offers.plan_service_ids(world["plan"].id), **terms)


def test_the_daily_command_rolls_every_clinics_memberships(app, clinic_a):
    from clinic_saas.clinic_time import today_in
    from clinic_saas.models import MembershipPeriod

    schedule = build_schedule(app, clinic_a)
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            service = db.session.get(Service, (clinic.id, schedule.service_id))
            client = db.session.get(Client, (clinic.id, schedule.client_id))
            plan = offers.save_plan(
                None,
                name="Monthly",
                price_minor=100,
                sessions_per_period=1,
                service_ids=[service.id],
            )
            started = today_in(clinic) - timedelta(days=70)
            m = memberships.enrol(plan, client, started, started)
            db.session.commit()
            membership_id = m.id
    result = app.test_cli_runner().invoke(args=["roll-memberships"])
    assert result.exit_code == 0, result.output
    assert "2 new membership period(s) in all." in result.output
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_a.clinic_id)
        with tenancy.bound_to(clinic):
            periods = db.session.scalars(
                db.select(MembershipPeriod).where(MembershipPeriod.membership_id == membership_id)
            ).all()
    assert len(periods) == 3
