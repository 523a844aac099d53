"""Command-line tasks: demo data and platform operators."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from .accounts.passwords import hash_password, password_problem
from .accounts.signup import find_user_by_email, normalise_email
from .demo import DEMO_CLINICS, DEMO_PASSWORD, reset_demo_data, seed_demo_data
from .extensions import db
from .models import User
from .models.base import utcnow

__all__ = [
    "DEMO_CLINICS",
    "DEMO_PASSWORD",
    "create_admin",
    "pay_link",
    "reencrypt_clinical",
    "roll_memberships",
    "seed_demo",
    "stripe_reconcile",
]


@click.command("seed-demo")
@click.option(
    "--reset",
    is_flag=True,
    help="First remove the demo clinics and everything in them, then seed them afresh.",
)
@with_appcontext
def seed_demo(reset: bool) -> None:
    """Create the demo clinics and logins (safe to run twice; --reset starts them afresh)."""
    if reset and reset_demo_data():
        click.echo("Removed the demo clinics and everything in them.")
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


@click.command("roll-memberships")
@with_appcontext
def roll_memberships() -> None:
    """Start the new monthly period of every active maintenance membership (run it daily)."""
    from sqlalchemy import select

    from . import tenancy
    from .clinic_time import today_in
    from .models import Clinic
    from .sales import memberships

    total = 0
    for clinic in db.session.scalars(select(Clinic).where(Clinic.active.is_(True))):
        with tenancy.bound_to(clinic):
            added = memberships.roll_all(today_in(clinic))
        total += added
        if added:
            click.echo(f"{clinic.slug}: {added} new period(s)")
    db.session.commit()
    click.echo(f"{total} new membership period(s) in all.")


@click.command("reencrypt-clinical")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
@with_appcontext
def reencrypt_clinical(batch_size: int) -> None:
    """Re-encrypt every clinical value under the first key of CLINICAL_DATA_KEYS (safe to repeat).

    Put the new key in front of CLINICAL_DATA_KEYS, run this, then remove the old key.
    """
    from .clinical.reencrypt import ReencryptionError, reencrypt_all
    from .crypto import ClinicalKeyError

    try:
        counts = reencrypt_all(batch_size=batch_size, report=lambda count: click.echo(str(count)))
    except (ClinicalKeyError, ReencryptionError) as exc:
        raise click.ClickException(f"re-encryption stopped: {exc}") from exc
    total = sum(c.rewritten for c in counts)
    click.echo(f"{total} value(s) re-encrypted under the newest key.")


@click.command("pay-link")
@click.argument("number")
@click.option(
    "--clinic", "slug", required=True, help="The clinic's address name, as in /c/<slug>/."
)
@with_appcontext
def pay_link(number: str, slug: str) -> None:
    """Print a fresh pay link for an issued invoice, for support to send by hand."""
    from sqlalchemy import select

    from . import tenancy
    from .models import Clinic, Invoice, InvoiceStatus

    clinic = db.session.scalar(select(Clinic).where(Clinic.slug == slug.strip().lower()))
    if clinic is None:
        raise click.ClickException(f"There is no clinic {slug!r}.")
    number = number.strip().upper()
    with tenancy.bound_to(clinic):
        invoice = db.session.scalar(select(Invoice).where(Invoice.number == number))
        if invoice is None:
            raise click.ClickException(f"{clinic.name} has no invoice numbered {number}.")
        if invoice.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PART_PAID):
            raise click.ClickException(
                f"Invoice {number} is {invoice.status.label.lower()}: there is nothing to pay."
            )
        from .payments.pay_links import pay_url

        url = pay_url(invoice)
        db.session.commit()
    click.echo(url)


_SINCE = {"d": "days", "h": "hours", "m": "minutes"}


def _since(value: str):
    import re
    from datetime import timedelta

    match = re.fullmatch(r"(\d{1,4})([dhm])", (value or "").strip())
    if not match:
        raise click.BadParameter("use a number and a unit: 3d, 12h or 30m", param_hint="--since")
    return timedelta(**{_SINCE[match.group(2)]: int(match.group(1))})


@click.command("stripe-reconcile")
@click.option(
    "--since", "since", default="3d", show_default=True, help="How far back: 3d, 12h, 30m."
)
@with_appcontext
def stripe_reconcile(since: str) -> None:
    """Record card payments and failures that Stripe has and a lost webhook never told us."""
    from flask import current_app

    from .payments.errors import GatewayError
    from .payments.reconcile import reconcile

    start = utcnow() - _since(since)
    try:
        changes = reconcile(start, connect=bool(current_app.config.get("STRIPE_CONNECT")))
    except GatewayError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.message} ({error.detail})") from error
    db.session.commit()
    for change in changes:
        click.echo(change)
    click.echo(f"{len(changes)} change(s)." if changes else "Nothing changed.")
