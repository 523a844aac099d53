"""The owner's team page: invitations, roles, deactivation; and what each role may reach."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.extensions import db
from clinic_saas.models import Clinic, Invitation, Membership, Role, User
from clinic_saas.models.base import utcnow

from .conftest import PASSWORD, link_in


def _invite(client, email: str, role: str = "receptionist"):
    return client.post_form("/c/northside/staff/invite", {"email": email, "role": role})


def _membership(app, clinic_fixture, email: str) -> Membership | None:
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_fixture.clinic_id)
        with tenancy.bound_to(clinic):
            return db.session.scalar(
                select(Membership).join(Membership.user).where(User.email == email)
            )


def test_owner_invites_a_new_person_who_sets_a_password_and_joins(
    app, client, auth, outbox, clinic_a
):
    auth.login_as("owner", clinic_a)
    assert _invite(client, "Newbie@Example.com", "therapist").status_code == 302
    message = outbox()[-1]
    assert message.to == "newbie@example.com"
    assert "Northside Sports Massage" in message.subject
    link = link_in(message, "/invite/")
    auth.logout()

    page = client.get(link)
    assert b"Join Northside Sports Massage" in page.data
    joined = client.post_form(link, {"name": "Nina Newbie", "password": "nina-strong-password"})
    assert joined.status_code == 302
    assert joined.location == "/c/northside/"
    home = client.get("/c/northside/")
    assert b"therapist" in home.data
    membership = _membership(app, clinic_a, "newbie@example.com")
    assert membership.role == Role.THERAPIST and membership.active

    # the link is spent
    auth.logout()
    again = client.get(link)
    assert again.status_code == 400
    assert b"already been accepted" in again.data


def test_an_existing_user_logs_in_to_accept_and_keeps_one_login(
    app, client, auth, outbox, clinic_a, clinic_b
):
    harbour_owner = clinic_b.email("owner")
    auth.login_as("owner", clinic_a)
    _invite(client, harbour_owner, "manager")
    link = link_in(outbox()[-1], "/invite/")
    auth.logout()
    assert b"Log in to accept" in client.get(link).data
    auth.login(harbour_owner, query_string={"next": link})
    accepted = client.post_form(link, {})
    assert accepted.status_code == 302
    switcher = client.get("/clinics/")
    assert b"Northside Sports Massage" in switcher.data
    assert b"Harbour Sports Therapy" in switcher.data
    with app.app_context():
        assert len(db.session.scalars(select(User).where(User.email == harbour_owner)).all()) == 1


def test_an_invitation_for_someone_else_cannot_be_taken_by_the_logged_in_user(
    app, client, auth, outbox, clinic_a, clinic_b
):
    auth.login_as("owner", clinic_a)
    _invite(client, "someone@example.com")
    link = link_in(outbox()[-1], "/invite/")
    auth.logout()
    auth.login_as("owner", clinic_b)
    page = client.get(link)
    assert b"but this invitation" in page.data
    client.post_form(link, {"name": "Sneaky", "password": "sneaky-password-1"})
    assert _membership(app, clinic_a, clinic_b.email("owner")) is None


@pytest.mark.parametrize("state", ["expired", "revoked", "tampered"])
def test_unusable_invitation_links_are_refused_clearly(app, client, auth, outbox, clinic_a, state):
    auth.login_as("owner", clinic_a)
    _invite(client, "late@example.com")
    link = link_in(outbox()[-1], "/invite/")
    with app.app_context(), tenancy.platform_access():
        invitation = db.session.scalar(select(Invitation))
        if state == "expired":
            invitation.expires_at = utcnow() - timedelta(minutes=1)
        elif state == "revoked":
            invitation.revoked_at = utcnow()
        db.session.commit()
    if state == "tampered":
        link = link[:-4] + "AAAA"
    auth.logout()
    response = client.get(link)
    assert response.status_code == 400
    expected = {"expired": b"has expired", "revoked": b"withdrawn", "tampered": b"not valid"}
    assert expected[state] in response.data
    joined = client.post_form(link, {"name": "Late", "password": "late-password-12"})
    assert joined.status_code == 400
    assert _membership(app, clinic_a, "late@example.com") is None


def test_a_new_invitation_replaces_the_open_one(client, auth, outbox, clinic_a):
    auth.login_as("owner", clinic_a)
    _invite(client, "twice@example.com")
    first = link_in(outbox()[-1], "/invite/")
    _invite(client, "twice@example.com", "manager")
    second = link_in(outbox()[-1], "/invite/")
    assert client.get(first).status_code == 400
    assert b"as <strong>manager" in client.get(second).data


def test_inviting_an_active_member_is_explained(client, auth, outbox, clinic_a):
    auth.login_as("owner", clinic_a)
    response = _invite(client, clinic_a.email("therapist"))
    assert response.status_code == 400
    assert b"already a member" in response.data
    assert outbox() == []


def test_a_receptionist_cannot_reach_owner_pages(client, auth, clinic_a):
    auth.login_as("receptionist", clinic_a)
    for url in ("/c/northside/staff/", "/c/northside/settings/"):
        assert client.get(url).status_code == 403
    member = clinic_a.member_ids[Role.THERAPIST]
    for url, data in [
        ("/c/northside/staff/invite", {"email": "x@example.com", "role": "owner"}),
        (f"/c/northside/staff/{member}/active", {"active": "0"}),
        ("/c/northside/settings/", {"clinic_name": "Hijacked"}),
    ]:
        assert client.post_form(url, data).status_code == 403


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        ("owner", [b">Staff<", b">Settings<"], []),
        ("manager", [b">Staff<"], [b">Settings<"]),
        ("receptionist", [], [b">Staff<", b">Settings<"]),
        ("therapist", [], [b">Staff<", b">Settings<"]),
    ],
)
def test_navigation_shows_only_what_the_role_may_use(client, auth, clinic_a, role, visible, hidden):
    auth.login_as(role, clinic_a)
    page = client.get("/c/northside/").data
    assert f'You are <strong data-testid="my-role">{role}</strong>'.encode() in page
    for item in visible:
        assert item in page
    for item in hidden:
        assert item not in page


def test_a_deactivated_user_is_logged_out_at_once(app, client, auth, clinic_a):
    therapist = app.test_client()
    therapist.post_form("/login", {"email": clinic_a.email("therapist"), "password": PASSWORD})
    assert therapist.get("/c/northside/").status_code == 200

    auth.login_as("owner", clinic_a)
    member = clinic_a.member_ids[Role.THERAPIST]
    done = client.post_form(f"/c/northside/staff/{member}/active", {"active": "0"})
    assert done.status_code == 302

    after = therapist.get("/c/northside/")
    assert after.status_code == 302 and after.location.startswith("/login")
    with therapist.session_transaction() as session:
        assert "_user_id" not in session
    # logging in again does not bring the clinic back
    therapist.post_form("/login", {"email": clinic_a.email("therapist"), "password": PASSWORD})
    assert therapist.get("/c/northside/").status_code == 404
    assert b"not an active member" in therapist.get("/clinics/").data


def test_a_reactivated_member_gets_back_in(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    member = clinic_a.member_ids[Role.THERAPIST]
    client.post_form(f"/c/northside/staff/{member}/active", {"active": "0"})
    client.post_form(f"/c/northside/staff/{member}/active", {"active": "1"})
    therapist = app.test_client()
    therapist.post_form("/login", {"email": clinic_a.email("therapist"), "password": PASSWORD})
    assert therapist.get("/c/northside/").status_code == 200


def test_owner_changes_a_role(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    member = clinic_a.member_ids[Role.RECEPTIONIST]
    field = f"m{member.hex}-role"
    response = client.post_form(f"/c/northside/staff/{member}/role", {field: "manager"})
    assert response.status_code == 302
    assert _membership(app, clinic_a, clinic_a.email("receptionist")).role == Role.MANAGER
    bogus = client.post_form(f"/c/northside/staff/{member}/role", {field: "emperor"})
    assert bogus.status_code == 302
    assert _membership(app, clinic_a, clinic_a.email("receptionist")).role == Role.MANAGER


def test_the_last_owner_cannot_be_demoted_or_deactivated(app, client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    me = clinic_a.member_ids[Role.OWNER]
    demoted = client.post_form(
        f"/c/northside/staff/{me}/role", {f"m{me.hex}-role": "therapist"}, follow_redirects=True
    )
    assert b"at least one active owner" in demoted.data
    deactivated = client.post_form(
        f"/c/northside/staff/{me}/active", {"active": "0"}, follow_redirects=True
    )
    assert b"cannot deactivate yourself" in deactivated.data
    assert _membership(app, clinic_a, clinic_a.email("owner")).role == Role.OWNER


def test_owner_withdraws_an_invitation(app, client, auth, outbox, clinic_a):
    auth.login_as("owner", clinic_a)
    _invite(client, "withdrawn@example.com")
    link = link_in(outbox()[-1], "/invite/")
    with app.app_context(), tenancy.platform_access():
        invitation_id = db.session.scalar(select(Invitation.id))
    done = client.post_form(
        f"/c/northside/staff/invitations/{invitation_id}/revoke", follow_redirects=True
    )
    assert b"The invitation to withdrawn@example.com was withdrawn" in done.data
    assert b"withdrawn@example.com" not in client.get("/c/northside/staff/").data
    assert client.get(link).status_code == 400


def test_owner_edits_clinic_settings(client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    data = {
        "clinic_name": "Northside Sports Massage & Rehab",
        "timezone": "Europe/London",
        "currency": "GBP",
        "country": "GB",
        "email": "desk@northside.example",
        "phone": "+44 161 000 0000",
        "address": "1 Road",
        "website": "https://northside.example",
        "tax_registration": "GB999",
        "retention_years": "10",
        "intake_valid_months": "6",
    }
    assert client.post_form("/c/northside/settings/", data).status_code == 302
    page = client.get("/c/northside/").data
    assert b"Northside Sports Massage &amp; Rehab" in page
    settings_page = client.get("/c/northside/settings/").data
    retention = re.search(rb'<input[^>]*name="retention_years"[^>]*>', settings_page)
    validity = re.search(rb'<input[^>]*name="intake_valid_months"[^>]*>', settings_page)
    assert b'value="10"' in retention.group() and b'value="6"' in validity.group()
    too_short = client.post_form("/c/northside/settings/", dict(data, retention_years="0"))
    assert too_short.status_code == 400
    assert b"Enter a number from 1 to 100." in too_short.data
    bad = client.post_form("/c/northside/settings/", dict(data, website="not a url"))
    assert bad.status_code == 400
    assert b"Invalid URL" in bad.data
