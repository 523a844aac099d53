"""Emailed links start with PUBLIC_BASE_URL, whatever Host header the request carried, and a request
for a host this installation does not serve is refused before any view runs."""

from __future__ import annotations

import pytest

from clinic_saas import tenancy
from clinic_saas.clients.family import contact_for
from clinic_saas.clinical.intake_links import send_intake_link
from clinic_saas.extensions import db
from clinic_saas.mail import read_outbox
from clinic_saas.models import Client, Clinic

from .conftest import PASSWORD
from .factories import build_schedule
from .test_auth import SIGNUP

PUBLIC = "https://app.clinic.example"


@pytest.fixture
def public_app(make_app):
    return make_app(PUBLIC_BASE_URL=PUBLIC)


def _links(outbox_dir) -> list[str]:
    return [
        word
        for message in read_outbox(outbox_dir)
        for word in message.text.split()
        if "://" in word
    ]


def test_a_reset_link_is_on_the_public_address_not_the_requests_host(
    public_app, clinic_a, outbox_dir
):
    client = public_app.test_client()
    response = client.post_form("/password/forgot", {"email": clinic_a.email("owner")})
    assert response.status_code == 200
    [link] = _links(outbox_dir)
    assert link.startswith(PUBLIC + "/password/reset/")


def test_an_unknown_host_is_refused_and_nothing_is_mailed(public_app, clinic_a, outbox_dir):
    client = public_app.test_client()
    token = client.csrf_token()
    response = client.post(
        "/password/forgot",
        data={"email": clinic_a.email("owner"), "csrf_token": token},
        headers={"Host": "evil.example"},
    )
    assert response.status_code == 400
    assert read_outbox(outbox_dir) == []
    assert client.get("/login", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/login", base_url=PUBLIC).status_code == 200


def test_signup_links_are_on_the_public_address(public_app, clinic_a, outbox_dir):
    client = public_app.test_client()
    client.post_form("/signup", SIGNUP)
    client.post_form("/signup", dict(SIGNUP, email=clinic_a.email("owner"), slug="other-one"))
    links = _links(outbox_dir)
    assert len(links) >= 4  # the confirmation, and login, reset and new clinic for the other
    assert all(link.startswith(PUBLIC + "/") for link in links), links


def test_invitation_and_intake_links_are_on_the_public_address(public_app, clinic_a, outbox_dir):
    client = public_app.test_client()
    client.post_form("/login", {"email": clinic_a.email("owner"), "password": PASSWORD})
    invited = client.post_form(
        "/c/northside/staff/invite", {"email": "new@example.com", "role": "receptionist"}
    )
    assert invited.status_code == 302
    schedule = build_schedule(public_app, clinic_a)
    with public_app.test_request_context("/", base_url="http://localhost:5000"):
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            person = tenancy.find(Client, schedule.client_id)
            send_intake_link(
                clinic=clinic, client=person, sent_by=None, contact=contact_for(person)
            )
            url = read_intake_url()
            db.session.rollback()
    assert url.startswith(PUBLIC + "/intake/")
    [invite_link] = _links(outbox_dir)
    assert invite_link.startswith(PUBLIC + "/invite/")


def read_intake_url() -> str:
    from flask import g

    [message] = g.pending_mail
    text = message.get_body(("plain",)).get_content()
    return next(word for word in text.split() if "/intake/" in word)
