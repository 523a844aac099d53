"""Logging in and out: a brand-new session at every login, each session known on the server.

Each login writes a `UserSession` row and puts a random secret in the signed cookie (see that
model's docstring for why): logging out deletes this session's row, so a copy of the cookie opens
nothing afterwards; "log out everywhere" and a password change delete all of the user's rows (and
bump the session epoch), and the password change then starts a new session for the browser that
made it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, session
from flask_login import login_user, logout_user
from sqlalchemy import delete

from .. import mail
from ..extensions import db
from ..models import User, UserSession
from ..models.base import utcnow
from . import tokens
from .errors import AccountError
from .passwords import hash_password, needs_rehash, verify_password
from .signup import confirm_email

SESSION_KEY = "_sid"
# A used session's expiry is moved forward at most this often, not written on every request.
RENEW_AFTER = timedelta(minutes=5)


def _lifetime() -> timedelta:
    return current_app.config["PERMANENT_SESSION_LIFETIME"]


def start_session(user: User) -> None:
    """Log a user in on a brand-new session: nothing from before login survives (no fixation)."""
    session.clear()
    login_user(user)
    session.permanent = True
    now = utcnow()
    user.last_login_at = now
    secret, digest = tokens.new_secret()
    db.session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now)
    )
    db.session.add(UserSession(id=digest, user_id=user.id, expires_at=now + _lifetime()))
    db.session.flush()
    session[SESSION_KEY] = secret


def session_is_live(user: User) -> bool:
    """Whether this request's session of `user` still exists on the server; keeps it alive."""
    secret = session.get(SESSION_KEY)
    if not isinstance(secret, str):
        return False
    row = db.session.get(UserSession, tokens.hash_secret(secret))
    now = utcnow()
    if row is None or row.user_id != user.id or row.expires_at <= now:
        return False
    if row.expires_at < now + _lifetime() - RENEW_AFTER:
        row.expires_at = now + _lifetime()
    return True


def end_session() -> None:
    """Log out: this session ends on the server, not only in this browser."""
    secret = session.get(SESSION_KEY)
    if isinstance(secret, str):
        db.session.execute(delete(UserSession).where(UserSession.id == tokens.hash_secret(secret)))
    logout_user()
    session.clear()


def end_all_sessions(user: User) -> None:
    """Every session of this user ends, on every device, this one included."""
    user.end_all_sessions()
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def log_in(user: User, password: str) -> None:
    """Start the session of a user whose password was just verified, upgrading a stored hash
    made with older parameters while the plain password is at hand."""
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    start_session(user)


def send_password_reset(user: User) -> None:
    """Mail a one-use reset link; the caller shows the same page whether or not it was sent."""
    token = tokens.make_user_token(user, tokens.RESET_PASSWORD)
    mail.send(
        user.email,
        "Reset your clinic_saas password",
        "reset_password",
        user=user,
        reset_url=mail.public_url("auth.reset_password", token=token),
        max_age=current_app.config["PASSWORD_RESET_MAX_AGE"],
    )


def reset_password(user: User, password: str) -> None:
    """Set a new password and log in with it: whoever knew the old one is logged out everywhere,
    and the emailed link proved the address."""
    user.password_hash = hash_password(password)
    end_all_sessions(user)
    confirm_email(user)
    start_session(user)


def change_password(user: User, current: str, new: str) -> None:
    """A logged-in user's new password: their other sessions end, this one goes on (renewed)."""
    if not verify_password(user.password_hash, current):
        raise AccountError("That is not your current password.", field="current")
    user.password_hash = hash_password(new)
    end_all_sessions(user)
    start_session(user)


def renew_session(user: User) -> None:
    """This browser's session gets a new secret and the old one ends on the server, keeping what
    the session holds: a copy of the cookie taken before (say, before a device was locked for a
    client) opens nothing afterwards."""
    old = session.get(SESSION_KEY)
    if isinstance(old, str):
        db.session.execute(delete(UserSession).where(UserSession.id == tokens.hash_secret(old)))
    secret, digest = tokens.new_secret()
    db.session.add(UserSession(id=digest, user_id=user.id, expires_at=utcnow() + _lifetime()))
    db.session.flush()
    session[SESSION_KEY] = secret


def unlock_with_password(user: User, password: str) -> bool:
    """Whether password is the user's own (a device handed back to staff after a kiosk use)."""
    return verify_password(user.password_hash, password)
