"""A new clinic and its owner, and the confirmation of the owner's email address."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from .. import mail, tenancy
from ..extensions import db
from ..models import Clinic, Membership, Role, User
from ..models.base import utcnow
from . import tokens
from .errors import AccountError
from .passwords import hash_password

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$")
RESERVED_SLUGS = frozenset(
    {
        "admin",
        "api",
        "app",
        "c",
        "clinics",
        "dev",
        "help",
        "login",
        "new",
        "signup",
        "static",
        "www",
    }
)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:63].rstrip("-")


def slug_problem(slug: str) -> str | None:
    if not SLUG_PATTERN.match(slug):
        return (
            "Use 3 to 63 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit."
        )
    if slug in RESERVED_SLUGS:
        return "That address is reserved. Choose another."
    if db.session.scalar(select(Clinic.id).where(Clinic.slug == slug)) is not None:
        return "Another clinic already uses that address. Choose another."
    return None


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def create_user(*, email: str, name: str, password: str) -> User:
    """A new login; the caller has checked that no account has this email address."""
    user = User(email=email, name=name, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    return user


def create_clinic(owner: User, **details) -> Clinic:
    """Create a clinic with `owner` as its first owner."""
    problem = slug_problem(details["slug"])
    if problem:
        raise AccountError(problem)
    clinic = Clinic(**details)
    db.session.add(clinic)
    db.session.flush()
    with tenancy.bound_to(clinic):
        db.session.add(Membership(clinic_id=clinic.id, user=owner, role=Role.OWNER))
        db.session.flush()
    return clinic


def register(*, name: str, email: str, password: str, clinic: dict) -> None:
    """Sign up a new owner, or mail the existing account holder instead.

    Nothing a stranger can observe differs between the two: the caller shows the same "check your
    inbox" page, both paths hash a password once, and neither takes the clinic's address. The
    clinic is created only when the new owner confirms their email (confirm_signup); were it
    created here, the address would be taken after a signup with a new email and still free after
    one with an existing email, which tells the two apart.
    """
    email = normalise_email(email)
    problem = slug_problem(clinic["slug"])
    if problem:
        raise AccountError(problem)
    existing = find_user_by_email(email)
    if existing is not None:
        hash_password(password)  # the same work as the new-account path: no timing difference
        mail.send(
            existing.email,
            "You already have a clinic_saas account",
            "account_exists",
            user=existing,
            login_url=mail.public_url("auth.login"),
            reset_url=mail.public_url("auth.forgot_password"),
            new_clinic_url=mail.public_url("clinics.new"),
        )
        return
    user = create_user(email=email, name=name.strip(), password=password)
    user.pending_clinic = dict(clinic)
    send_confirmation(user)


def send_confirmation(user: User) -> None:
    token = tokens.make_user_token(user, tokens.CONFIRM_EMAIL)
    mail.send(
        user.email,
        "Confirm your email address",
        "confirm_email",
        user=user,
        confirm_url=mail.public_url("auth.confirm_email", token=token),
    )


def confirm_email(user: User) -> None:
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()


def confirm_signup(user: User) -> bool:
    """Confirm the email address and create the clinic its signup asked for, if any.

    False when that clinic's address was taken since (two signups chose it, and the other owner
    confirmed first): the address is confirmed all the same, and its owner chooses another one.
    """
    confirm_email(user)
    details, user.pending_clinic = user.pending_clinic, None
    if not details:
        return True
    if slug_problem(details["slug"]):
        return False
    create_clinic(user, **details)
    return True
