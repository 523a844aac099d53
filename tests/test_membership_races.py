"""One live membership per client and plan, kept by the database itself: two enrolments racing
for one client and plan give one membership and one clear refusal, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import (
    Client,
    ClientMembership,
    ClientMembershipStatus,
    Clinic,
    MembershipPlan,
)
from clinic_saas.sales import memberships
from clinic_saas.sales.memberships import MembershipError

from .test_sales import sales_world

START = date(2031, 3, 10)


@pytest.fixture
def world(app, clinic_a) -> dict:
    return sales_world(app, clinic_a)


def _bound(clinic_id):
    """Bind this thread's app context to the clinic."""
    clinic = db.session.get(Clinic, clinic_id)
    tenancy.bind(clinic)
    return clinic


def _objects(world):
    client = db.session.scalar(select(Client).where(Client.id == world["client_id"]))
    plan = db.session.scalar(select(MembershipPlan).where(MembershipPlan.id == world["plan_id"]))
    return client, plan


def _row(world, status=ClientMembershipStatus.ACTIVE) -> ClientMembership:
    return ClientMembership(
        plan_id=world["plan_id"],
        client_id=world["client_id"],
        name="Monthly maintenance",
        price_minor=5500,
        sessions_per_period=1,
        started_on=START,
        anchor_on=START,
        status=status,
    )


def _live_count(app, clinic_a) -> int:
    with app.app_context(), tenancy.bound_to(db.session.get(Clinic, clinic_a.clinic_id)):
        return db.session.scalar(
            select(func.count(ClientMembership.id)).where(
                ClientMembership.status != ClientMembershipStatus.CANCELLED
            )
        )


def test_the_database_refuses_a_second_live_membership_of_one_plan(app, clinic_a, world):
    """Bypassing enrol's own check: the unique index alone refuses the second live row."""
    with app.app_context():
        _bound(clinic_a.clinic_id)
        db.session.add(_row(world, ClientMembershipStatus.CANCELLED))
        db.session.add(_row(world, ClientMembershipStatus.CANCELLED))
        db.session.add(_row(world))
        db.session.flush()  # cancelled ones do not count
        db.session.add(_row(world, ClientMembershipStatus.PAUSED))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_an_enrolment_committed_meanwhile_is_refused_as_already_a_member(app, clinic_a, world):
    """Another request enrols the client after this one checked: the index refuses this insert,
    and enrol says why in the domain's words instead of failing."""
    inserted, done = threading.Event(), threading.Event()

    def other_request():
        with app.app_context():
            _bound(clinic_a.clinic_id)
            db.session.add(_row(world))
            db.session.flush()  # holds the row (and on SQLite the write lock) until it commits
            inserted.set()
            done.wait(timeout=1)  # this side's enrol is checking, then waiting on the insert
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=other_request)
    thread.start()
    try:
        assert inserted.wait(timeout=10)
        with app.app_context():
            _bound(clinic_a.clinic_id)
            client, plan = _objects(world)
            with pytest.raises(MembershipError, match="already a member of Monthly maintenance"):
                memberships.enrol(plan, client, START, START)
            db.session.rollback()
    finally:
        done.set()
        thread.join(timeout=10)
    assert _live_count(app, clinic_a) == 1


@pytest.mark.parametrize("attempts", [2, 6])
def test_racing_enrolments_let_exactly_one_win(app, clinic_a, world, attempts):
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt():
        with app.app_context():
            _bound(clinic_a.clinic_id)
            client, plan = _objects(world)
            barrier.wait()
            try:
                memberships.enrol(plan, client, START, START)
                db.session.commit()
                result = "enrolled"
            except MembershipError as refused:
                db.session.rollback()
                result = "refused" if "already a member" in str(refused) else str(refused)
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["enrolled"] + ["refused"] * (attempts - 1)
    assert _live_count(app, clinic_a) == 1
