"""Starting a session, as a domain call: a brand-new session, permanent, and the login noted."""

from __future__ import annotations

from flask import session
from sqlalchemy import select

from clinic_saas.accounts.passwords import verify_password
from clinic_saas.accounts.sessions import reset_password, start_session
from clinic_saas.extensions import db
from clinic_saas.models import User
from clinic_saas.models.base import utcnow

from .conftest import PASSWORD


def _owner(clinic) -> User:
    return db.session.scalar(select(User).where(User.email == clinic.email("owner")))


def test_start_session_renews_the_session_and_notes_the_login(app, clinic_a):
    with app.test_request_context("/login"):
        session["planted"] = "by an attacker before login"
        user = _owner(clinic_a)
        before = utcnow()
        start_session(user)
        assert "planted" not in session
        assert session["_user_id"] == user.get_id()
        assert session.permanent
        assert user.last_login_at >= before
        db.session.rollback()


def test_reset_password_ends_the_other_sessions_and_logs_in_with_the_new_one(app, clinic_a):
    with app.test_request_context("/password/reset"):
        session["planted"] = "from before"
        user = _owner(clinic_a)
        epoch = user.session_epoch
        reset_password(user, "a-brand-new-password")
        assert verify_password(user.password_hash, "a-brand-new-password")
        assert user.session_epoch == epoch + 1
        assert user.email_confirmed_at is not None
        assert "planted" not in session
        assert session["_user_id"] == user.get_id()
        db.session.rollback()


# Through the app: logging out, logging out everywhere, changing the password ------------------


def _logged_in(app, clinic, role="owner"):
    browser = app.test_client()
    response = browser.post_form("/login", {"email": clinic.email(role), "password": PASSWORD})
    assert response.status_code == 302
    assert browser.get("/c/northside/").status_code == 200
    return browser


def _copy_of(app, browser):
    """Another browser holding a copy of this one's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", browser.get_cookie("session").value)
    return thief


def test_logging_out_ends_the_session_on_the_server_too(app, clinic_a):
    browser = _logged_in(app, clinic_a)
    thief = _copy_of(app, browser)
    assert thief.get("/c/northside/").status_code == 200
    assert browser.post_form("/logout").status_code == 302
    refused = thief.get("/c/northside/")
    assert refused.status_code == 302
    assert refused.location.startswith("/login")


def test_logging_out_ends_only_this_session(app, clinic_a):
    laptop = _logged_in(app, clinic_a)
    phone = _logged_in(app, clinic_a)
    laptop.post_form("/logout")
    assert phone.get("/c/northside/").status_code == 200


def test_the_account_page_is_in_the_navbar_and_needs_a_login(app, client, clinic_a):
    assert client.get("/account/").status_code == 302
    browser = _logged_in(app, clinic_a)
    assert 'href="/account/"' in browser.get("/c/northside/").get_data(as_text=True)
    page = browser.get("/account/").get_data(as_text=True)
    assert "Log out everywhere" in page and "Change your password" in page


def test_log_out_everywhere_ends_every_session_of_the_user_only(app, clinic_a, clinic_b):
    laptop = _logged_in(app, clinic_a)
    phone = _logged_in(app, clinic_a)
    copied = _copy_of(app, phone)
    colleague = _logged_in(app, clinic_a, "receptionist")
    response = laptop.post_form("/account/log-out-everywhere")
    assert response.status_code == 302 and response.location.startswith("/login")
    for browser in (laptop, phone, copied):
        assert browser.get("/c/northside/").status_code == 302
    assert colleague.get("/c/northside/").status_code == 200


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(app, clinic_a):
    laptop = _logged_in(app, clinic_a)
    phone = _logged_in(app, clinic_a)
    new = "a-brand-new-password"
    response = laptop.post_form(
        "/account/password", {"current": PASSWORD, "password": new, "confirm": new}
    )
    assert response.status_code == 302
    assert laptop.get("/c/northside/").status_code == 200
    assert phone.get("/c/northside/").status_code == 302
    with app.app_context():
        assert verify_password(_owner(clinic_a).password_hash, new)


def test_a_wrong_current_password_changes_nothing(app, clinic_a):
    laptop = _logged_in(app, clinic_a)
    phone = _logged_in(app, clinic_a)
    new = "a-brand-new-password"
    response = laptop.post_form(
        "/account/password", {"current": "not-my-password", "password": new, "confirm": new}
    )
    assert response.status_code == 400
    assert "That is not your current password." in response.get_data(as_text=True)
    assert phone.get("/c/northside/").status_code == 200
    with app.app_context():
        assert verify_password(_owner(clinic_a).password_hash, PASSWORD)
