"""Signed, expiring links for email confirmation and password reset.

A reset link embeds a fingerprint of the current password hash and session epoch, so it stops
working as soon as it has been used (the hash changes) or the user's sessions were ended.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..models import User

CONFIRM_EMAIL = "confirm-email"
RESET_PASSWORD = "reset-password"  # noqa: S105 - a salt name, not a secret


class InvalidToken(Exception):
    """The link is tampered with, expired or already used; the message says which for people."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)


def _fingerprint(user: User) -> str:
    material = f"{user.password_hash or ''}|{user.session_epoch}|{user.email}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def make_user_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"u": str(user.id), "f": _fingerprint(user)})


def read_user_token(token: str, purpose: str, max_age: timedelta) -> tuple[str, str]:
    """Return (user id, fingerprint) from a link, or raise InvalidToken."""
    try:
        data = _serializer(purpose).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise InvalidToken("This link has expired. Ask for a new one.") from exc
    except BadSignature as exc:
        raise InvalidToken("This link is not valid. Check that you copied all of it.") from exc
    if not isinstance(data, dict) or "u" not in data or "f" not in data:
        raise InvalidToken("This link is not valid.")
    return data["u"], data["f"]


def token_matches(user: User | None, fingerprint: str) -> bool:
    return user is not None and hmac.compare_digest(_fingerprint(user), fingerprint)


def new_secret() -> tuple[str, str]:
    """A random link secret and the hash we store for it (the secret itself is never stored)."""
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
