"""Starting a session, as a domain call: a brand-new session, permanent, and the login noted."""

from __future__ import annotations

from flask import session
from sqlalchemy import select

from clinic_saas.accounts.passwords import verify_password
from clinic_saas.accounts.sessions import reset_password, start_session
from clinic_saas.extensions import db
from clinic_saas.models import User
from clinic_saas.models.base import utcnow


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
