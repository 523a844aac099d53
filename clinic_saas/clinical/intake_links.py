"""Asking a client for their intake: a link emailed to them, or the form opened at the desk.

Each link asked for is written to the audit trail with its channel, in the same transaction as
the link itself; the email is queued and leaves only once that transaction has committed.
"""

from __future__ import annotations

from .. import display, mail
from ..models import Client, Clinic, IntakeLink, Membership
from . import audit, intake

ERASED = "This client's identity was erased: no intake can be asked of them."


class IntakeSendError(ValueError):
    """An intake that cannot be asked of this client; str() is for people."""


def _check_askable(client: Client) -> None:
    if client.erased_at is not None:
        raise IntakeSendError(ERASED)


def _audit_sent(client: Client, link: IntakeLink, channel: str) -> None:
    audit.record(
        "intake.send",
        client_id=client.id,
        subject_type="intake_link",
        subject_id=link.id,
        detail={"channel": channel},
    )


def send_intake_link(
    *,
    clinic: Clinic,
    client: Client,
    sent_by: Membership | None,
    contact: tuple[str, str | None],
) -> IntakeLink:
    """Email a new one-time link, so the client (or a child's parent) answers before the visit.

    `contact` is who to write to, as (name, email) from clients.family.contact_for: the clients
    package stands above this one and decides who speaks for a child.
    """
    _check_askable(client)
    name, email = contact
    if not email:
        raise IntakeSendError(
            f"{client.full_name} has no email address, and no parent or guardian with one. "
            "Add an email to their record, or fill the form in at the desk."
        )
    link, token = intake.create_link(client, "email", sent_by, sent_to=email)
    for_guardian = email != client.email
    mail.send(
        email,
        f"Your health questionnaire for {clinic.name}"
        if not for_guardian
        else f"{client.first_name}'s health questionnaire for {clinic.name}",
        "intake_link",
        clinic=clinic,
        client=client,
        recipient_name=name,
        for_guardian=for_guardian,
        url=mail.public_url("intake_public.fill", token=token),
        valid_until=display.day(link.expires_at, clinic.tz),
    )
    _audit_sent(client, link, "email")
    return link


def open_at_desk(*, client: Client, opened_by: Membership | None) -> str:
    """A short-lived link's token, for the client to fill the form in on a clinic device."""
    _check_askable(client)
    link, token = intake.create_link(client, "desk", opened_by)
    _audit_sent(client, link, "desk")
    return token
