"""Command-line tasks: demo data and platform operators."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from . import tenancy
from .accounts.passwords import hash_password, password_problem
from .accounts.signup import find_user_by_email, normalise_email
from .extensions import db
from .models import Clinic, Membership, Role, User
from .models.base import utcnow

DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - published in the README on purpose

DEMO_CLINICS = [
    {
        "slug": "northside",
        "name": "Northside Sports Massage",
        "timezone": "Europe/London",
        "currency": "GBP",
        "country": "GB",
        "email": "hello@northside.example",
        "phone": "+44 161 496 0000",
        "address": "12 Harbour Street\nManchester M1 2AB",
        "tax_registration": "GB123456789",
        "staff": [
            ("owner@northside.example", "Olivia Owens", Role.OWNER),
            ("reception@northside.example", "Rachel Reyes", Role.RECEPTIONIST),
            ("therapist@northside.example", "Tom Turner", Role.THERAPIST),
        ],
    },
    {
        "slug": "harbour",
        "name": "Harbour Sports Therapy",
        "timezone": "Europe/Dublin",
        "currency": "EUR",
        "country": "IE",
        "email": "hello@harbour.example",
        "phone": "+353 1 555 0100",
        "address": "3 Quay Road\nDublin D02",
        "tax_registration": None,
        "staff": [("owner@harbour.example", "Hannah Hughes", Role.OWNER)],
    },
]


def _demo_user(email: str, name: str) -> User:
    user = find_user_by_email(email)
    if user is None:
        user = User(email=email, name=name, password_hash=hash_password(DEMO_PASSWORD))
        db.session.add(user)
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    user.active = True
    return user


def seed_demo_data() -> None:
    """Create or refresh the demo clinics and logins; running it twice changes nothing more."""
    for spec in DEMO_CLINICS:
        details = {k: v for k, v in spec.items() if k != "staff"}
        clinic = db.session.scalar(select(Clinic).where(Clinic.slug == spec["slug"]))
        if clinic is None:
            clinic = Clinic(**details)
            db.session.add(clinic)
            db.session.flush()
        with tenancy.bound_to(clinic):
            for email, name, role in spec["staff"]:
                user = _demo_user(email, name)
                db.session.flush()
                membership = db.session.scalar(
                    select(Membership).where(Membership.user_id == user.id)
                )
                if membership is None:
                    db.session.add(Membership(user=user, role=role))
                db.session.flush()


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Create the demo clinics and logins (safe to run twice)."""
    seed_demo_data()
    db.session.commit()
    click.echo("Demo ready. Log in with any of these, password " + DEMO_PASSWORD + ":")
    for spec in DEMO_CLINICS:
        for email, _, role in spec["staff"]:
            click.echo(f"  {email:32} {role.value:13} {spec['name']} (/c/{spec['slug']}/)")


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="Platform operator", show_default=True)
@click.password_option(help="Asked for when not given.")
@with_appcontext
def create_admin(email: str, name: str, password: str) -> None:
    """Make EMAIL a platform operator, creating the account if needed."""
    email = normalise_email(email)
    problem = password_problem(password, email)
    if problem:
        raise click.BadParameter(problem, param_hint="password")
    user = find_user_by_email(email)
    if user is None:
        user = User(email=email, name=name)
        db.session.add(user)
    user.password_hash = hash_password(password)
    user.is_platform_operator = True
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    db.session.commit()
    click.echo(f"{email} is a platform operator.")
