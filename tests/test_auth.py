"""Signup, login, logout, password reset: working, and telling strangers nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from clinic_saas.extensions import db
from clinic_saas.models import Clinic, User

from .conftest import PASSWORD, link_in

SIGNUP = {
    "name": "Sam Sprinter",
    "email": "sam@fastlane.example",
    "password": "a-long-enough-password",
    "clinic_name": "Fast Lane Sports Massage",
    "slug": "fast-lane",
    "timezone": "Europe/London",
    "currency": "GBP",
    "country": "GB",
}


def _confirm_link(outbox) -> str:
    return link_in(outbox()[-1], "/signup/confirm/")


def test_signup_creates_a_clinic_and_its_owner_after_email_confirmation(client, auth, outbox, app):
    response = client.post_form("/signup", SIGNUP)
    assert response.status_code == 302
    assert "check-inbox" in response.location
    assert outbox()[-1].to == SIGNUP["email"]

    # not yet confirmed: the password is right, but the login asks for the email first
    refused = auth.login(SIGNUP["email"], SIGNUP["password"])
    assert refused.status_code == 200
    assert b"confirm your email" in refused.data

    confirmed = client.get(_confirm_link(outbox))
    assert confirmed.status_code == 302
    home = client.get(confirmed.location, follow_redirects=True)
    assert home.request.path == "/c/fast-lane/"
    assert b"Fast Lane Sports Massage" in home.data
    assert b"owner" in home.data

    with app.app_context():
        clinic = db.session.scalar(select(Clinic).where(Clinic.slug == "fast-lane"))
        assert (clinic.timezone, clinic.currency, clinic.country) == ("Europe/London", "GBP", "GB")


def test_a_confirmation_link_works_once_and_not_when_tampered(client, outbox):
    client.post_form("/signup", SIGNUP)
    link = _confirm_link(outbox)
    assert client.get(link[:-3] + "xyz").status_code == 400
    assert client.get(link).status_code == 302
    # it is still valid for an already-confirmed address: confirming twice is harmless
    assert client.get(link).status_code == 302


def _without_csrf_tokens(page: bytes) -> bytes:
    """CSRF tokens carry a timestamp: two pages a second apart differ there and only there."""
    return re.sub(rb'(name="csrf[-_]token" (?:content|value)=)"[^"]+"', rb"\1", page)


def test_signup_with_an_existing_email_reveals_nothing(client, outbox, clinic_a):
    taken = dict(SIGNUP, email=clinic_a.email("owner"), slug="another-one")
    fresh = dict(SIGNUP, email="new@elsewhere.example", slug="yet-another")
    r_taken = client.post_form("/signup", taken)
    r_fresh = client.post_form("/signup", fresh)
    assert r_taken.status_code == r_fresh.status_code == 302
    page_taken = client.get(r_taken.location).data.replace(taken["email"].encode(), b"E")
    page_fresh = client.get(r_fresh.location).data.replace(fresh["email"].encode(), b"E")
    assert _without_csrf_tokens(page_taken) == _without_csrf_tokens(page_fresh)
    subjects = {m.to: m.subject for m in outbox()}
    assert subjects[taken["email"]] == "You already have a clinic_saas account"
    assert subjects[fresh["email"]] == "Confirm your email address"


def test_signup_takes_no_clinic_address_whether_or_not_the_email_has_an_account(
    client, outbox, clinic_a
):
    """Were the address taken only for a new email, trying it again would tell the two apart."""
    client.post_form("/signup", dict(SIGNUP, email=clinic_a.email("owner"), slug="another-one"))
    client.post_form("/signup", dict(SIGNUP, email="new@elsewhere.example", slug="yet-another"))
    for slug in ("another-one", "yet-another"):
        again = client.post_form("/signup", dict(SIGNUP, email=f"probe@{slug}.example", slug=slug))
        assert again.status_code == 302, again.get_data(as_text=True)


def test_the_first_confirmed_signup_gets_the_address_and_the_other_chooses_again(
    app, client, outbox
):
    client.post_form("/signup", SIGNUP)
    first = _confirm_link(outbox)
    client.post_form("/signup", dict(SIGNUP, email="late@fastlane.example"))
    second = _confirm_link(outbox)

    other = app.test_client()
    assert other.get(first).status_code == 302
    assert other.get("/c/fast-lane/").status_code == 200

    late = client.get(second, follow_redirects=True)
    assert late.request.path == "/clinics/new"
    assert b"another clinic took the address you chose" in late.data
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "late@fastlane.example"))
        assert user.email_confirmed_at is not None
        assert db.session.scalar(select(func.count(Clinic.id))) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("password", "short", b"at least 10 characters"),
        ("email", "not-an-email", b"Invalid email address"),
        ("slug", "Bad Slug!", b"Lowercase letters, digits and hyphens"),
        ("slug", "admin", b"reserved"),
        ("timezone", "Mars/Olympus", b"Not a valid choice"),
        ("currency", "XXX", b"Not a valid choice"),
    ],
)
def test_signup_explains_bad_input_beside_the_field(client, outbox, field, value, message):
    response = client.post_form("/signup", dict(SIGNUP, **{field: value}))
    assert response.status_code == 400
    assert message in response.data
    assert outbox() == []


def test_signup_refuses_a_taken_clinic_address(client, clinic_a):
    response = client.post_form("/signup", dict(SIGNUP, slug="northside"))
    assert response.status_code == 400
    assert b"Another clinic already uses that address" in response.data


def test_login_failure_is_the_same_for_unknown_email_and_wrong_password(auth, clinic_a):
    unknown = auth.login("nobody@nowhere.example", PASSWORD)
    wrong = auth.login(clinic_a.email("owner"), "wrong-password-123")
    assert unknown.status_code == wrong.status_code == 401
    strip = re.compile(rb'value="[^"]*"|content="[^"]*"')
    assert strip.sub(b"", unknown.data) == strip.sub(b"", wrong.data)
    assert b"do not match an account" in unknown.data


def test_login_and_logout(client, auth, clinic_a):
    response = auth.login(clinic_a.email("owner"))
    assert response.status_code == 302
    assert client.get("/c/northside/").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/c/northside/").status_code == 302


def test_login_renews_the_session(client, auth, clinic_a):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker before login"
    auth.login_as("owner", clinic_a)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id")


def test_login_sends_people_back_only_to_this_site(client, auth, clinic_a):
    inside = auth.login(clinic_a.email("owner"), query_string={"next": "/c/northside/staff/"})
    assert inside.location == "/c/northside/staff/"
    auth.logout()
    outside = auth.login(clinic_a.email("owner"), query_string={"next": "//evil.example/x"})
    assert outside.location == "/clinics/"


def test_login_is_rate_limited_per_account(make_app, clinic_a):
    app = make_app(LOGIN_LIMIT_PER_ACCOUNT="3 per minute")
    client = app.test_client()
    token = re.search(rb'name="csrf-token" content="([^"]+)"', client.get("/login").data)[1]
    attempt = {"email": clinic_a.email("owner"), "password": "wrong-password!", "csrf_token": token}
    codes = [client.post("/login", data=attempt).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    right = client.post("/login", data=dict(attempt, password=PASSWORD))
    assert right.status_code == 429  # even the right password waits: the account is under attack
    other = client.post(
        "/login", data=dict(attempt, email=clinic_a.email("therapist"), password=PASSWORD)
    )
    assert other.status_code == 302


def test_login_is_rate_limited_per_address(make_app, clinic_a):
    app = make_app(LOGIN_LIMIT_PER_ADDRESS="4 per minute")
    client = app.test_client()
    token = re.search(rb'name="csrf-token" content="([^"]+)"', client.get("/login").data)[1]
    codes = [
        client.post(
            "/login",
            data={
                "email": f"guess{i}@example.test",
                "password": "nope-nope-1",
                "csrf_token": token,
            },
        ).status_code
        for i in range(5)
    ]
    assert codes == [401, 401, 401, 401, 429]
    from_elsewhere = client.post(
        "/login",
        data={"email": clinic_a.email("owner"), "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert from_elsewhere.status_code == 302


def test_a_form_posted_without_its_csrf_token_is_refused(client, clinic_a):
    response = client.post("/login", data={"email": clinic_a.email("owner"), "password": PASSWORD})
    assert response.status_code == 400
    assert b"Reload the page and try again" in response.data
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_a_form_posted_with_another_sessions_token_is_refused(app, client, auth, clinic_a):
    other = app.test_client()
    foreign_token = other.csrf_token()
    auth.login_as("owner", clinic_a)
    response = client.post(
        "/c/northside/staff/invite",
        data={"email": "x@example.test", "role": "owner", "csrf_token": foreign_token},
    )
    assert response.status_code == 400


def test_password_reset_by_emailed_link(client, auth, outbox, clinic_a, app):
    email = clinic_a.email("therapist")
    response = client.post_form("/password/forgot", {"email": email})
    assert response.status_code == 200
    link = link_in(outbox()[-1], "/password/reset/")
    new = "a-brand-new-password"
    changed = client.post_form(link, {"password": new, "confirm": new})
    assert changed.status_code == 302
    auth.logout()
    assert auth.login(email, PASSWORD).status_code == 401
    assert auth.login(email, new).status_code == 302
    # the link is single-use: the password it was made for has changed
    reused = client.get(link)
    assert reused.status_code == 400
    assert b"already been used" in reused.data


def test_password_reset_reveals_nothing_about_unknown_emails(client, outbox, clinic_a):
    known = client.post_form("/password/forgot", {"email": clinic_a.email("owner")})
    unknown = client.post_form("/password/forgot", {"email": "ghost@nowhere.example"})
    assert known.status_code == unknown.status_code == 200
    assert known.data.replace(clinic_a.email("owner").encode(), b"E") == unknown.data.replace(
        b"ghost@nowhere.example", b"E"
    )
    assert [m.to for m in outbox()] == [clinic_a.email("owner")]


def test_an_expired_reset_link_is_refused(make_app, clinic_a, outbox):
    app = make_app(PASSWORD_RESET_MAX_AGE=timedelta(seconds=-1))
    client = app.test_client()
    client.post_form("/password/forgot", {"email": clinic_a.email("owner")})
    response = client.get(link_in(outbox()[-1], "/password/reset/"))
    assert response.status_code == 400
    assert b"expired" in response.data


def test_a_reset_ends_every_other_session(app, client, auth, outbox, clinic_a):
    other_device = app.test_client()
    other_device.post_form("/login", {"email": clinic_a.email("owner"), "password": PASSWORD})
    assert other_device.get("/c/northside/").status_code == 200
    client.post_form("/password/forgot", {"email": clinic_a.email("owner")})
    link = link_in(outbox()[-1], "/password/reset/")
    client.post_form(link, {"password": "another-good-pass", "confirm": "another-good-pass"})
    assert other_device.get("/c/northside/").status_code == 302


def test_new_password_must_differ_from_email_and_match_confirmation(client, outbox, clinic_a):
    client.post_form("/password/forgot", {"email": clinic_a.email("owner")})
    link = link_in(outbox()[-1], "/password/reset/")
    mismatch = client.post_form(link, {"password": "first-password-1", "confirm": "second-pass-22"})
    assert mismatch.status_code == 400
    assert b"The two passwords differ" in mismatch.data


def test_login_upgrades_an_old_password_hash(app, auth, clinic_a):
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == clinic_a.email("owner")))
        user.password_hash = weak
        db.session.commit()
    assert auth.login(clinic_a.email("owner")).status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == clinic_a.email("owner")))
        assert user.password_hash != weak
        assert user.password_hash.startswith("$argon2id$")
