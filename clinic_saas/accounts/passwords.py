"""Password hashing with argon2id, and the rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 200
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the account does not exist: a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-just-for-timing")
_COMMON = frozenset(
    {"password123", "1234567890", "qwertyuiop", "password1!", "letmein123", "iloveyou12"}
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password in constant-ish time, also when there is no account (hash is None)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, email: str = "") -> str | None:
    """Why a new password is not acceptable, or None when it is."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if password.lower() in _COMMON or len(set(password)) < 4:
        return "That password is too easy to guess."
    if email and password.lower() == email.lower():
        return "Your password cannot be your email address."
    return None
