"""Creating and finding client records at the desk: plain functions that flush, never commit."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import Client

NAME_MAX = 80
EMAIL_MAX = 254
PHONE_MAX = 40
# Digits with the punctuation people type in phone numbers: +44 (0)161 496-0000.
_PHONE = re.compile(r"^\+?[0-9 ()./-]+$")
_MIN_PHONE_DIGITS = 6


class ClientError(ValueError):
    """A client record that cannot be saved as entered; str() is for people, field says where."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def normalise_email(email: str | None) -> str | None:
    """Lowercase, trimmed, and checked for shape (no DNS lookups at the desk)."""
    email = (email or "").strip().lower()
    if not email:
        return None
    if len(email) > EMAIL_MAX:
        raise ClientError(f"Use at most {EMAIL_MAX} characters for the email.", "email")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise ClientError("Enter a valid email address, e.g. name@example.com.", "email") from error
    return email


def normalise_phone(phone: str | None) -> str | None:
    """Keep the number as the client gave it, once we know it looks like a phone number."""
    phone = _clean(phone)
    if not phone:
        return None
    digits = sum(ch.isdigit() for ch in phone)
    if len(phone) > PHONE_MAX or not _PHONE.match(phone) or digits < _MIN_PHONE_DIGITS:
        raise ClientError("Enter a phone number of digits, e.g. +44 7700 900123.", "phone")
    return phone


def create_client(
    first_name: str | None, last_name: str | None, email: str | None, phone: str | None
) -> Client:
    """A new client: a name, and an email or a phone number so the clinic can reach them."""
    first, last = _clean(first_name), _clean(last_name)
    if not first and not last:
        raise ClientError("Enter the client's name.", "first_name")
    for value, field in ((first, "first_name"), (last, "last_name")):
        if len(value) > NAME_MAX:
            raise ClientError(f"Use at most {NAME_MAX} characters.", field)
    email, phone = normalise_email(email), normalise_phone(phone)
    if email is None and phone is None:
        raise ClientError("Enter an email address or a phone number.", "email")
    client = Client(first_name=first, last_name=last, email=email, phone=phone)
    db.session.add(client)
    db.session.flush()
    return client


def _digits_of(column):
    """The phone column without the punctuation people type between digits."""
    for mark in " -.()":
        column = func.replace(column, mark, "")
    return column


def search_clients(q: str | None, limit: int = 20) -> list[Client]:
    """Clients whose name, email or phone matches every word of q, case-insensitively."""
    words = _clean(q).split()[:5]
    if not words:
        return []
    query = select(Client)
    for word in words:
        matches = [
            Client.first_name.icontains(word, autoescape=True),
            Client.last_name.icontains(word, autoescape=True),
            Client.email.icontains(word, autoescape=True),
            Client.phone.icontains(word, autoescape=True),
        ]
        digits = re.sub(r"[\s().-]", "", word)
        if len(digits) >= 3 and digits.lstrip("+").isdigit():
            # "07700 900123" finds "07700900123" and the other way round.
            matches.append(_digits_of(Client.phone).contains(digits, autoescape=True))
        query = query.where(or_(*matches))
    query = query.order_by(Client.last_name, Client.first_name, Client.id).limit(limit)
    return list(db.session.scalars(query))
