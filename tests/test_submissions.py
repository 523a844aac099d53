"""Forms that record something record it once: a double click, a resent request or ten posts at
once with one form's key record one sale, enrolment, refund, client or offer, and the repeat shows
what the first one recorded."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from clinic_saas.extensions import db
from clinic_saas.models import (
    Client,
    ClientMembership,
    FormSubmission,
    MembershipPlan,
    Package,
    PackageSale,
)

from .test_sales import (
    SALES,
    _count,
    _hidden,
    _in_clinic,
    _sale,
    _sell,
    _text,
    _today,
    sales_world,
)

OFFERS = "/c/northside/menu/offers"


@pytest.fixture
def world(app, clinic_a) -> dict:
    return sales_world(app, clinic_a)


def _sell_form(client, world) -> dict:
    """What the confirmation page of a sale posts: its package, terms and one-time key."""
    page = _text(client.get(f"{world['client_url']}/sell?package={world['package_id']}"))
    return {
        "package": str(world["package_id"]),
        "terms": _hidden(page, "terms"),
        "submission_key": _hidden(page, "submission_key"),
    }


def _claims(app, clinic_a) -> list[tuple[str, object]]:
    return _in_clinic(
        app,
        clinic_a,
        lambda: [(s.kind, s.object_id) for s in db.session.scalars(select(FormSubmission))],
    )


def test_each_confirmation_page_carries_a_new_key(client, auth, clinic_a, world):
    auth.login_as("receptionist", clinic_a)
    first, second = _sell_form(client, world), _sell_form(client, world)
    assert first["submission_key"] != second["submission_key"]
    assert uuid.UUID(first["submission_key"]).version == 4


def test_a_sale_sent_twice_sells_once_and_the_repeat_shows_the_first(
    app, client, auth, clinic_a, world
):
    auth.login_as("receptionist", clinic_a)
    form = _sell_form(client, world)
    url = f"{world['client_url']}/sell"
    sold = client.post_form(url, form, follow_redirects=True)
    assert "Sold Rehab course of 6" in _text(sold)

    again = client.post_form(url, form)
    assert again.status_code == 302 and again.location.endswith(world["client_url"])
    shown = _text(client.get(again.location))
    assert "Already recorded: Rehab course of 6 was sold to" in shown
    assert "Sold Rehab course of 6" not in shown
    assert "6 left</strong> of 6" in shown
    assert _count(app, clinic_a, PackageSale) == 1
    sale_id = _in_clinic(app, clinic_a, lambda: db.session.scalar(select(PackageSale.id)))
    assert _claims(app, clinic_a) == [("package_sale", sale_id)]

    # Another page, another key: a second sale on purpose is a second sale.
    client.post_form(url, _sell_form(client, world))
    assert _count(app, clinic_a, PackageSale) == 2


def test_ten_posts_at_once_with_one_key_sell_once(app, client, auth, clinic_a, world):
    """Ten browsers' worth of one form, each on its own connection, released together."""
    auth.login_as("receptionist", clinic_a)
    form = _sell_form(client, world)
    form["csrf_token"] = client.csrf_token()
    session_cookie = client.get_cookie("session").value
    attempts = 10
    barrier = threading.Barrier(attempts)
    pages: list[str] = []
    lock = threading.Lock()

    def post():
        browser = app.test_client()
        browser.set_cookie("session", session_cookie)
        barrier.wait()
        response = browser.post(f"{world['client_url']}/sell", data=form)
        assert response.status_code == 302, response.status_code
        page = _text(browser.get(response.location))
        with lock:
            pages.append(page)

    threads = [threading.Thread(target=post) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(pages) == attempts
    assert sum("Sold Rehab course of 6" in p for p in pages) == 1
    assert sum("Already recorded: Rehab course of 6 was sold" in p for p in pages) == attempts - 1
    assert _count(app, clinic_a, PackageSale) == 1
    assert len(_claims(app, clinic_a)) == 1


def test_an_enrolment_sent_twice_enrols_once_and_the_repeat_shows_it(
    app, client, auth, clinic_a, world
):
    today = _today(app, clinic_a)
    auth.login_as("receptionist", clinic_a)
    page = _text(client.get(world["client_url"]))
    form = {
        "plan": str(world["plan_id"]),
        "start_on": today.isoformat(),
        "submission_key": _hidden(page, "submission_key"),
    }
    url = f"{world['client_url']}/enrol"
    assert client.post_form(url, form).status_code == 302
    again = client.post_form(url, form)
    assert again.status_code == 302  # not the 400 of "already a member": it is the same form
    shown = _text(client.get(again.location))
    assert "Already recorded: " in shown and "is a member of Monthly maintenance" in shown
    assert _count(app, clinic_a, ClientMembership) == 1


def test_a_refused_enrolment_leaves_its_key_free_for_the_corrected_form(
    app, client, auth, clinic_a, world
):
    today = _today(app, clinic_a)
    auth.login_as("receptionist", clinic_a)
    url = f"{world['client_url']}/enrol"
    key = str(uuid.uuid4())
    past = (today - timedelta(days=1)).isoformat()
    refused = client.post_form(
        url, {"plan": str(world["plan_id"]), "start_on": past, "submission_key": key}
    )
    assert refused.status_code == 400 and "cannot start in the past" in _text(refused)
    assert _hidden(_text(refused), "submission_key") == key  # the form shown again keeps it
    assert _claims(app, clinic_a) == []
    enrolled = client.post_form(
        url, {"plan": str(world["plan_id"]), "start_on": today.isoformat(), "submission_key": key}
    )
    assert enrolled.status_code == 302
    assert _count(app, clinic_a, ClientMembership) == 1


def test_a_refund_sent_twice_refunds_once_and_the_repeat_shows_it(
    app, client, auth, clinic_a, world
):
    sale_id = _sell(app, clinic_a, world)
    auth.login_as("owner", clinic_a)
    url = f"{SALES}/packages/{sale_id}/refund"
    page = _text(client.get(url))
    form = {"quoted": "30000", "submission_key": _hidden(page, "submission_key")}
    assert client.post_form(url, form).status_code == 302
    refunded_at = _sale(app, clinic_a, sale_id).refunded_at
    again = client.post_form(url, form)
    assert again.status_code == 302  # not the 409 of "already been refunded"
    shown = _text(client.get(again.location))
    assert "Already recorded: Rehab course of 6 was refunded: £300.00" in shown
    assert _sale(app, clinic_a, sale_id).refunded_at == refunded_at
    assert _claims(app, clinic_a) == [("package_refund", sale_id)]


def test_a_new_client_sent_twice_is_added_once(app, client, auth, clinic_a, world):
    auth.login_as("receptionist", clinic_a)
    page = _text(client.get(f"{SALES}/"))
    form = {"first_name": "Bo", "last_name": "Lane", "phone": "07700 900123"}
    form["submission_key"] = _hidden(page, "submission_key")
    before = _count(app, clinic_a, Client)
    first = client.post_form(f"{SALES}/clients/new", form)
    again = client.post_form(f"{SALES}/clients/new", form)
    assert again.status_code == 302 and again.location == first.location
    assert "Already recorded: Bo Lane was added." in _text(client.get(again.location))
    assert _count(app, clinic_a, Client) == before + 1


def test_a_new_package_or_plan_sent_twice_is_added_once(app, client, auth, clinic_a, world):
    auth.login_as("owner", clinic_a)
    service = str(world["schedule"].service_id)
    for path, fields, model in (
        ("packages/new", {"sessions_count": "5", "validity_months": "3"}, Package),
        ("plans/new", {"sessions_per_period": "2"}, MembershipPlan),
    ):
        page = _text(client.get(f"{OFFERS}/{path}"))
        form = {"name": "Twice", "price": "100", "services": service, "active": "y", **fields}
        form["submission_key"] = _hidden(page, "submission_key")
        before = _count(app, clinic_a, model)
        assert client.post_form(f"{OFFERS}/{path}", form).status_code == 302
        again = client.post_form(f"{OFFERS}/{path}", form)
        assert again.status_code == 302
        assert "Already recorded: Twice was added to the menu." in _text(client.get(again.location))
        assert _count(app, clinic_a, model) == before + 1


def test_a_form_without_its_key_or_with_another_forms_key_records_nothing(
    app, client, auth, clinic_a, world
):
    today = _today(app, clinic_a)
    auth.login_as("receptionist", clinic_a)
    form = _sell_form(client, world)
    url = f"{world['client_url']}/sell"
    for key in ("", "not-a-key"):
        refused = client.post_form(url, {**form, "submission_key": key})
        assert refused.status_code == 400
        assert "sent without its one-time key" in _text(refused)
    assert client.post_form(url, form).status_code == 302
    enrol = {"plan": str(world["plan_id"]), "start_on": today.isoformat()}
    reused = client.post_form(
        f"{world['client_url']}/enrol", {**enrol, "submission_key": form["submission_key"]}
    )
    assert reused.status_code == 409 and "already used for something else" in _text(reused)
    assert _count(app, clinic_a, PackageSale) == 1
    assert _count(app, clinic_a, ClientMembership) == 0
