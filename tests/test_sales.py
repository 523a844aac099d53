"""The sales desk: selling packages, enrolling members, using, giving back, refunding sessions."""

from __future__ import annotations

import html
import itertools
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from clinic_saas import display, tenancy
from clinic_saas.clinic_time import add_months, today_in
from clinic_saas.extensions import db
from clinic_saas.menu import offers
from clinic_saas.models import (
    Appointment,
    Client,
    ClientMembership,
    ClientMembershipStatus,
    Clinic,
    MembershipPlan,
    Package,
    PackageRedemption,
    PackageSale,
    Role,
)
from clinic_saas.sales import memberships, packages

from .factories import build_schedule

SALES = "/c/northside/sales"
EARLIER = datetime(2020, 6, 1, 10, tzinfo=UTC)  # past appointments paid for by packages
_slots = itertools.count()


@pytest.fixture
def world(app, clinic_a):
    return sales_world(app, clinic_a)


def sales_world(app, clinic_a) -> dict:
    """A schedule, a 6-session package and a monthly plan covering its service: their ids."""
    schedule = build_schedule(app, clinic_a)

    def add_offers():
        package = offers.save_package(
            None,
            name="Rehab course of 6",
            sessions_count=6,
            price_minor=30000,
            validity_months=6,
            service_ids=[schedule.service_id],
        )
        plan = offers.save_plan(
            None,
            name="Monthly maintenance",
            price_minor=5500,
            sessions_per_period=1,
            service_ids=[schedule.service_id],
        )
        return package.id, plan.id

    package_id, plan_id = _in_clinic(app, clinic_a, add_offers)
    return {
        "schedule": schedule,
        "client_id": schedule.client_id,
        "package_id": package_id,
        "plan_id": plan_id,
        "client_url": f"{SALES}/clients/{schedule.client_id}",
    }


def _in_clinic(app, clinic_fixture, work):
    """Run work(clinic) or work() with the clinic bound, and commit what it wrote."""
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            result = work()
            db.session.commit()
            return result


def _today(app, clinic_fixture) -> date:
    with app.app_context():
        return today_in(db.session.get(Clinic, clinic_fixture.clinic_id))


def _loaded(model, ident):
    return db.session.scalar(select(model).where(model.id == ident))


def _appointment(schedule, starts_at: datetime, client_id=None) -> Appointment:
    appointment = Appointment(
        client_id=client_id or schedule.client_id,
        therapist_id=schedule.therapist_id,
        service_id=schedule.service_id,
        location_id=schedule.location_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=60),
        blocked_until=starts_at + timedelta(minutes=75),
    )
    db.session.add(appointment)
    db.session.flush()
    return appointment


def _sell(app, clinic_fixture, world, *, used=0, sold_on=None, client_id=None, **terms):
    """A sale of a package (the world's, or one made with `terms`) with `used` sessions used."""
    today = _today(app, clinic_fixture)

    def work():
        package = _loaded(Package, world["package_id"])
        if terms:
            package = offers.save_package(
                None,
                name=terms.pop("name", "Short course"),
                service_ids=[world["schedule"].service_id],
                **terms,
            )
        client = _loaded(Client, client_id or world["client_id"])
        sale = packages.sell(package, client, sold_on or today)
        for _ in range(used):
            # One therapist: each past appointment at its own time (PostgreSQL refuses overlaps).
            starts = EARLIER - timedelta(hours=2 * next(_slots))
            appointment = _appointment(world["schedule"], starts, client_id=client.id)
            packages.redeem(sale, appointment, today)
        return sale.id

    return _in_clinic(app, clinic_fixture, work)


def _detached(row):
    """A row read in a test's own session, usable after that session commits."""
    db.session.expunge(row)
    return row


def _sale(app, clinic_fixture, sale_id) -> PackageSale:
    return _in_clinic(app, clinic_fixture, lambda: _detached(_loaded(PackageSale, sale_id)))


def _count(app, clinic_fixture, model) -> int:
    return _in_clinic(app, clinic_fixture, lambda: db.session.scalar(select(func.count(model.id))))


def _text(response) -> str:
    return html.unescape(" ".join(response.get_data(as_text=True).split()))


def _hidden(page_text: str, name: str) -> str:
    match = re.search(rf'name="{name}"(?: type="hidden")? value="([^"]*)"', page_text)
    assert match, f"no hidden {name}"
    return match.group(1)


# Finding and adding clients ----------------------------------------------------------------------


def test_the_desk_finds_a_client_and_lists_recent_sales_and_members(
    app, client, auth, clinic_a, world
):
    _sell(app, clinic_a, world, used=1)

    def enrol():
        today = _today(app, clinic_a)
        memberships.enrol(
            _loaded(MembershipPlan, world["plan_id"]),
            _loaded(Client, world["client_id"]),
            today,
            today,
        )

    _in_clinic(app, clinic_a, enrol)
    auth.login_as("receptionist", clinic_a)
    page = _text(client.get(f"{SALES}/?q=ada"))
    assert f'href="{world["client_url"]}"' in page
    recent = page.split('data-testid="recent-sales"')[1].split('data-testid="active-members"')
    assert "Rehab course of 6" in recent[0] and "5 of 6" in recent[0]
    assert "Monthly maintenance" in recent[1] and "Ada Runner" in recent[1]
    assert "No client matches" in _text(client.get(f"{SALES}/?q=nobody"))


def test_a_new_client_is_added_inline_and_opened(app, client, auth, clinic_a, world):
    auth.login_as("receptionist", clinic_a)
    refused = client.post_form(f"{SALES}/clients/new", {"first_name": "Bo", "last_name": "Lane"})
    assert refused.status_code == 400
    assert "Enter an email address or a phone number." in _text(refused)
    assert _count(app, clinic_a, Client) == 1

    added = client.post_form(
        f"{SALES}/clients/new", {"first_name": "Bo", "last_name": "Lane", "phone": "07700 900123"}
    )
    assert added.status_code == 302
    bo = _in_clinic(
        app, clinic_a, lambda: db.session.scalar(select(Client.id).where(Client.first_name == "Bo"))
    )
    assert added.location.endswith(f"{SALES}/clients/{bo}")
    assert "Bo Lane" in _text(client.get(added.location))


# Selling -----------------------------------------------------------------------------------------


def test_a_receptionist_sells_a_package_after_seeing_its_terms(app, client, auth, clinic_a, world):
    today = _today(app, clinic_a)
    expected_expiry = add_months(today, 6) - timedelta(days=1)
    auth.login_as("receptionist", clinic_a)
    assert "Rehab course of 6" in _text(client.get(world["client_url"]))

    confirm = client.get(f"{world['client_url']}/sell?package={world['package_id']}")
    assert confirm.status_code == 200
    page = _text(confirm)
    assert 'data-testid="confirm-sessions">6<' in page
    assert 'data-testid="confirm-price">£300.00<' in page
    assert f'data-testid="confirm-expiry">{display.day(expected_expiry)} ' in page
    assert _count(app, clinic_a, PackageSale) == 0  # nothing sold by looking

    sold = client.post_form(
        f"{world['client_url']}/sell",
        {"package": str(world["package_id"]), "terms": _hidden(page, "terms")},
    )
    assert sold.status_code == 302
    assert sold.location.endswith(world["client_url"])
    sale = _in_clinic(app, clinic_a, lambda: _detached(db.session.scalar(select(PackageSale))))
    assert sale.expires_on == expected_expiry
    assert sale.sold_by_id == clinic_a.member_ids[Role.RECEPTIONIST]
    assert (sale.sessions_total, sale.price_minor, sale.sold_on) == (6, 30000, today)

    page = _text(client.get(world["client_url"]))
    assert "6 left</strong> of 6" in page
    assert f'data-testid="expires">{display.day(expected_expiry)}<' in page


def test_a_sale_at_terms_changed_since_the_confirmation_is_refused(
    app, client, auth, clinic_a, world
):
    auth.login_as("receptionist", clinic_a)
    page = _text(client.get(f"{world['client_url']}/sell?package={world['package_id']}"))
    terms = _hidden(page, "terms")

    def reprice():
        _loaded(Package, world["package_id"]).price_minor = 36000

    _in_clinic(app, clinic_a, reprice)
    refused = client.post_form(
        f"{world['client_url']}/sell", {"package": str(world["package_id"]), "terms": terms}
    )
    assert refused.status_code == 409
    assert "terms changed" in _text(refused) and "£360.00" in _text(refused)
    assert _count(app, clinic_a, PackageSale) == 0


def test_a_package_no_longer_on_sale_is_not_sold(app, client, auth, clinic_a, world):
    auth.login_as("receptionist", clinic_a)
    page = _text(client.get(f"{world['client_url']}/sell?package={world['package_id']}"))

    def withdraw():
        _loaded(Package, world["package_id"]).active = False

    _in_clinic(app, clinic_a, withdraw)
    refused = client.post_form(
        f"{world['client_url']}/sell",
        {"package": str(world["package_id"]), "terms": _hidden(page, "terms")},
    )
    assert refused.status_code == 400
    assert "is no longer on sale" in _text(refused)
    assert _count(app, clinic_a, PackageSale) == 0


def test_a_therapist_cannot_sell(app, client, auth, clinic_a, world):
    auth.login_as("therapist", clinic_a)
    assert client.get(f"{SALES}/").status_code == 403
    assert client.get(world["client_url"]).status_code == 403
    sold = client.post_form(
        f"{world['client_url']}/sell", {"package": str(world["package_id"]), "terms": "6/30000/6"}
    )
    assert sold.status_code == 403
    enrolled = client.post_form(
        f"{world['client_url']}/enrol", {"plan": str(world["plan_id"]), "start_on": "2099-01-01"}
    )
    assert enrolled.status_code == 403
    assert _count(app, clinic_a, PackageSale) == 0
    assert _count(app, clinic_a, ClientMembership) == 0


# Using sessions ----------------------------------------------------------------------------------


def test_completing_an_appointment_uses_a_session_of_the_package(
    app, client, auth, clinic_a, world
):
    auth.login_as("receptionist", clinic_a)
    page = _text(client.get(f"{world['client_url']}/sell?package={world['package_id']}"))
    client.post_form(
        f"{world['client_url']}/sell",
        {"package": str(world["package_id"]), "terms": _hidden(page, "terms")},
    )
    today = _today(app, clinic_a)
    # The clinic's midnight today: a session of today that has started (only then is it completed).
    starts = datetime.combine(today, time(0), tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)
    appointment_id = _in_clinic(app, clinic_a, lambda: _appointment(world["schedule"], starts).id)
    booked = f"/c/northside/appointments/{appointment_id}"
    assert client.post_form(f"{booked}/check-in").status_code == 302
    completed = client.post_form(f"{booked}/complete", follow_redirects=True)
    assert "One session of Rehab course of 6 was used: 5 left." in _text(completed)

    page = _text(client.get(world["client_url"]))
    assert "5 left</strong> of 6 (1 used)" in page
    history = page.split('data-testid="sessions-used"')[1]
    assert display.day(today) in history and "Sports massage 60" in history
    assert "Give the session back" not in page  # receptionists do not reverse sessions

    sale_id = _in_clinic(app, clinic_a, lambda: db.session.scalar(select(PackageSale.id)))
    give_back = f"{SALES}/packages/{sale_id}/sessions/{appointment_id}/give-back"
    assert client.post_form(give_back).status_code == 403
    auth.logout()
    auth.login_as("manager", clinic_a)
    assert "Give the session back" in _text(client.get(world["client_url"]))
    given = client.post_form(give_back, follow_redirects=True)
    assert "The session was given back to Rehab course of 6: 6 left." in _text(given)
    assert "6 left</strong> of 6 (0 used)" in _text(given)
    assert "Given back" in _text(given)
    again = client.post_form(give_back, follow_redirects=True)
    assert "already given back" in _text(again)
    assert _count(app, clinic_a, PackageRedemption) == 1  # the row stays, marked reversed


def test_used_up_and_expired_packages_show_their_status(app, client, auth, clinic_a, world):
    today = _today(app, clinic_a)
    _sell(app, clinic_a, world, used=2, sessions_count=2, price_minor=9000, validity_months=3)
    _sell(app, clinic_a, world, sold_on=today - timedelta(days=200), name="Old course",
          sessions_count=4, price_minor=16000, validity_months=6)  # fmt: skip
    auth.login_as("manager", clinic_a)
    page = _text(client.get(world["client_url"]))
    statuses = re.findall(r'data-testid="sale-status">([^<]+)<', page)
    assert sorted(statuses) == ["Expired", "Used up"]
    assert "0 left</strong> of 2 (2 used)" in page


# Refunds -----------------------------------------------------------------------------------------


def test_a_refund_shows_the_pro_rata_quote_and_policy_then_records_it(
    app, client, auth, clinic_a, world
):
    sale_id = _sell(
        app, clinic_a, world, used=1, sessions_count=3, price_minor=20000, validity_months=6
    )
    auth.login_as("owner", clinic_a)
    page = _text(client.get(f"{SALES}/packages/{sale_id}/refund"))
    # 20000 x 2 / 3 = 13333.33 -> 13333, rounded half up
    assert 'data-testid="refund-amount">£133.33<' in page
    assert "Unused sessions are refunded at the package's own per-session price" in page
    assert _hidden(page, "quoted") == "13333"
    assert _sale(app, clinic_a, sale_id).refunded_at is None  # nothing refunded by looking

    refunded = client.post_form(f"{SALES}/packages/{sale_id}/refund", {"quoted": "13333"})
    assert refunded.status_code == 302
    sale = _sale(app, clinic_a, sale_id)
    assert sale.refund_minor == 13333 and sale.refunded_at is not None
    page = _text(client.get(world["client_url"]))
    assert re.findall(r'data-testid="sale-status">([^<]+)<', page) == ["Refunded"]
    assert 'data-testid="refunded">£133.33 on' in page

    again = client.get(f"{SALES}/packages/{sale_id}/refund")
    assert "already been refunded" in _text(again)
    assert 'name="quoted"' not in _text(again)


def test_a_refund_quoted_before_a_session_was_used_is_not_made(app, client, auth, clinic_a, world):
    sale_id = _sell(app, clinic_a, world)
    auth.login_as("owner", clinic_a)
    quoted = _hidden(_text(client.get(f"{SALES}/packages/{sale_id}/refund")), "quoted")
    assert quoted == "30000"

    def use_one():
        today = _today(app, clinic_a)
        appointment = _appointment(world["schedule"], datetime.combine(today, time(9), UTC))
        packages.redeem(_loaded(PackageSale, sale_id), appointment, today)

    _in_clinic(app, clinic_a, use_one)
    refused = client.post_form(f"{SALES}/packages/{sale_id}/refund", {"quoted": quoted})
    assert refused.status_code == 409
    assert "check the amount again" in _text(refused) and "£250.00" in _text(refused)
    assert _sale(app, clinic_a, sale_id).refunded_at is None


def test_an_expired_package_has_no_refund(app, client, auth, clinic_a, world):
    today = _today(app, clinic_a)
    sale_id = _sell(app, clinic_a, world, sold_on=today - timedelta(days=200))
    auth.login_as("manager", clinic_a)
    page = _text(client.get(f"{SALES}/packages/{sale_id}/refund"))
    assert "no refund is due" in page
    assert 'name="quoted"' not in page
    refused = client.post_form(f"{SALES}/packages/{sale_id}/refund", {"quoted": "30000"})
    assert refused.status_code == 409
    assert _sale(app, clinic_a, sale_id).refunded_at is None


def test_a_receptionist_cannot_refund(app, client, auth, clinic_a, world):
    sale_id = _sell(app, clinic_a, world)
    auth.login_as("receptionist", clinic_a)
    assert client.get(f"{SALES}/packages/{sale_id}/refund").status_code == 403
    refused = client.post_form(f"{SALES}/packages/{sale_id}/refund", {"quoted": "30000"})
    assert refused.status_code == 403
    assert _sale(app, clinic_a, sale_id).refunded_at is None
    assert f"/packages/{sale_id}/refund" not in _text(client.get(world["client_url"]))


# Memberships -------------------------------------------------------------------------------------


def test_a_receptionist_enrols_a_client_from_today(app, client, auth, clinic_a, world):
    today = _today(app, clinic_a)
    auth.login_as("receptionist", clinic_a)
    page = _text(client.get(world["client_url"]))
    start = re.search(r'<input [^>]*name="start_on"[^>]*>', page).group(0)
    assert f'value="{today.isoformat()}"' in start and f'min="{today.isoformat()}"' in start

    enrolled = client.post_form(
        f"{world['client_url']}/enrol",
        {"plan": str(world["plan_id"]), "start_on": today.isoformat()},
    )
    assert enrolled.status_code == 302
    page = _text(client.get(world["client_url"]))
    assert re.findall(r'data-testid="membership-status">([^<]+)<', page) == ["Active"]
    assert "1 left</strong> of 1 (0 used)" in page
    assert display.day(today) in page.split('data-testid="current-period"')[1]


def test_a_membership_cannot_start_in_the_past_or_twice(app, client, auth, clinic_a, world):
    today = _today(app, clinic_a)
    auth.login_as("receptionist", clinic_a)
    url = f"{world['client_url']}/enrol"
    past = client.post_form(
        url, {"plan": str(world["plan_id"]), "start_on": (today - timedelta(days=1)).isoformat()}
    )
    assert past.status_code == 400
    assert "cannot start in the past" in _text(past)
    assert _count(app, clinic_a, ClientMembership) == 0
    missing = client.post_form(url, {"plan": "", "start_on": today.isoformat()})
    assert missing.status_code == 400 and "Choose a plan." in _text(missing)

    client.post_form(url, {"plan": str(world["plan_id"]), "start_on": today.isoformat()})
    twice = client.post_form(url, {"plan": str(world["plan_id"]), "start_on": today.isoformat()})
    assert twice.status_code == 400 and "already a member" in _text(twice)
    assert _count(app, clinic_a, ClientMembership) == 1


def test_pause_resume_and_cancel_through_the_buttons(app, client, auth, clinic_a, world):
    today = _today(app, clinic_a)
    auth.login_as("receptionist", clinic_a)
    client.post_form(
        f"{world['client_url']}/enrol",
        {"plan": str(world["plan_id"]), "start_on": today.isoformat()},
    )
    enrolment = _in_clinic(app, clinic_a, lambda: db.session.scalar(select(ClientMembership.id)))
    base = f"{SALES}/memberships/{enrolment}"

    def status():
        return _in_clinic(app, clinic_a, lambda: _loaded(ClientMembership, enrolment).status)

    def statuses(response):
        return re.findall(r'data-testid="membership-status">([^<]+)<', _text(response))

    paused = client.post_form(f"{base}/pause", follow_redirects=True)
    assert status() == ClientMembershipStatus.PAUSED and statuses(paused) == ["Paused"]
    assert f'action="{base}/resume"' in _text(paused)
    resumed = client.post_form(f"{base}/resume", follow_redirects=True)
    assert status() == ClientMembershipStatus.ACTIVE and statuses(resumed) == ["Active"]
    cancelled = client.post_form(f"{base}/cancel", follow_redirects=True)
    assert status() == ClientMembershipStatus.CANCELLED and statuses(cancelled) == ["Cancelled"]
    assert f'action="{base}/pause"' not in _text(cancelled)
    refused = client.post_form(f"{base}/pause", follow_redirects=True)
    assert "Only an active membership can be paused (this one is cancelled)." in _text(refused)
    assert status() == ClientMembershipStatus.CANCELLED


def test_the_client_page_brings_memberships_up_to_today(app, client, auth, clinic_a, world):
    today = _today(app, clinic_a)
    started = today - timedelta(days=70)

    def enrol_long_ago():
        membership = memberships.enrol(
            _loaded(MembershipPlan, world["plan_id"]),
            _loaded(Client, world["client_id"]),
            started,
            started,
        )
        return membership.id

    _in_clinic(app, clinic_a, enrol_long_ago)
    auth.login_as("receptionist", clinic_a)
    page = _text(client.get(world["client_url"]))
    current = page.split('data-testid="current-period"')[1].split("</dd>")[0]
    assert "1 left</strong> of 1" in current
    assert "Other months (2)" in page  # 70 days is always into the third monthly period


# Cost of the client page -------------------------------------------------------------------------


def test_the_client_page_costs_the_same_statements_for_1_sale_as_for_20(
    app, client, auth, clinic_a, world, count_queries
):
    def second_client():
        other = Client(first_name="Cy", last_name="Many", email="cy@example.com")
        db.session.add(other)
        db.session.flush()
        return other.id

    many = _in_clinic(app, clinic_a, second_client)
    _sell(app, clinic_a, world, used=1)
    for n in range(20):
        _sell(app, clinic_a, world, used=1 + n % 3, client_id=many)  # 39 sessions used in all

    def enrol_both():
        today = _today(app, clinic_a)
        plan = _loaded(MembershipPlan, world["plan_id"])
        for client_id in (world["client_id"], many):
            memberships.enrol(plan, _loaded(Client, client_id), today, today)

    _in_clinic(app, clinic_a, enrol_both)
    auth.login_as("manager", clinic_a)
    client.get(world["client_url"])  # warm up: the first request loads what every page needs

    one, page_one = count_queries(lambda: client.get(world["client_url"]))
    twenty, page_twenty = count_queries(lambda: client.get(f"{SALES}/clients/{many}"))
    assert page_one.status_code == page_twenty.status_code == 200
    assert _text(page_twenty).count('data-testid="sale"') == 20
    used = sum(1 + n % 3 for n in range(20))
    assert _text(page_twenty).count(">Give the session back<") == used
    assert "Monthly maintenance" in _text(page_one) and "Monthly maintenance" in _text(page_twenty)
    assert one == twenty


# Nothing of another clinic -----------------------------------------------------------------------


def test_unknown_or_malformed_ids_are_404(client, auth, clinic_a, world):
    auth.login_as("owner", clinic_a)
    assert client.get(f"{SALES}/clients/not-a-uuid").status_code == 404
    assert client.get(f"{SALES}/packages/not-a-uuid/refund").status_code == 404
    assert client.post_form(f"{SALES}/memberships/not-a-uuid/pause").status_code == 404
    assert client.get(f"{world['client_url']}/sell?package=nope").status_code == 400
