"""Logging in: a brand-new session at every login, and a password that changes ends the others."""

from __future__ import annotations

from flask import current_app, session
from flask_login import login_user

from .. import mail
from ..models import User
from ..models.base import utcnow
from . import tokens
from .passwords import hash_password, needs_rehash
from .signup import confirm_email


def start_session(user: User) -> None:
    """Log a user in on a brand-new session: nothing from before login survives (no fixation)."""
    session.clear()
    login_user(user)
    session.permanent = True
    user.last_login_at = utcnow()


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
    user.end_all_sessions()
    confirm_email(user)
    start_session(user)
