"""Family links: a parent or guardian who manages a child's records and bookings.

One level only: a guardian is never someone's child, and a child is never a guardian. So a
family is one guardian and their children, and "the same family" means guardian and child.
Plain functions that flush, never commit.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import or_, select

from ..extensions import db
from ..models import Client
from ..tenancy import find
from .records import ClientError, create_client


def guardian_of(client: Client) -> Client | None:
    """The client's parent or guardian, if they have one."""
    if client.guardian_id is None:
        return None
    return find(Client, client.guardian_id)


def children_of(client: Client) -> list[Client]:
    """The clients this client is the guardian of, by name."""
    return list(
        db.session.scalars(
            select(Client)
            .where(Client.guardian_id == client.id)
            .order_by(Client.last_name, Client.first_name, Client.id)
        )
    )


def contact_for(client: Client) -> tuple[str, str | None]:
    """Who to write to about this client, as (name, email): the client's own email, else the
    guardian's (a child's intake link goes to the parent); the email is None when neither has
    one."""
    if client.erased_at is not None:
        return client.full_name, None
    if client.email:
        return client.full_name, client.email
    guardian = guardian_of(client)
    if guardian is not None and guardian.email and guardian.erased_at is None:
        return guardian.full_name, guardian.email
    return client.full_name, None


def family_ids(client: Client) -> set[uuid.UUID]:
    """The ids of the client's family other than the client: the guardian, or the children."""
    ids = set(db.session.scalars(select(Client.id).where(Client.guardian_id == client.id)))
    if client.guardian_id is not None:
        ids.add(client.guardian_id)
    return ids


def related(a_id: uuid.UUID, b_id: uuid.UUID) -> bool:
    """True when one of the two clients is the other's guardian."""
    if a_id == b_id:
        return False
    count = db.session.scalar(
        select(db.func.count(Client.id)).where(
            or_(
                (Client.id == a_id) & (Client.guardian_id == b_id),
                (Client.id == b_id) & (Client.guardian_id == a_id),
            )
        )
    )
    return bool(count)


def has_children(client: Client) -> bool:
    return (
        db.session.scalar(select(Client.id).where(Client.guardian_id == client.id).limit(1))
        is not None
    )


def _check_can_be_guardian(guardian: Client) -> None:
    if guardian.erased_at is not None:
        raise ClientError("This client's identity was erased: they cannot manage a family.")
    if guardian.guardian_id is not None:
        parent = guardian_of(guardian)
        name = parent.full_name if parent else "another client"
        raise ClientError(
            f"{guardian.full_name} is in the family of {name}: a child cannot be a guardian. "
            f"Add the child to {name}'s family instead.",
            "child",
        )


def link_child(guardian: Client, child: Client) -> Client:
    """Put an existing client in the guardian's family."""
    _check_can_be_guardian(guardian)
    if child.id == guardian.id:
        raise ClientError("A client cannot be their own guardian.", "child")
    if child.erased_at is not None:
        raise ClientError("This client's identity was erased: they cannot join a family.", "child")
    if child.guardian_id == guardian.id:
        raise ClientError(
            f"{child.full_name} is already in {guardian.full_name}'s family.", "child"
        )
    if child.guardian_id is not None:
        current = guardian_of(child)
        name = current.full_name if current else "another client"
        raise ClientError(
            f"{child.full_name} is already in the family of {name}: unlink them there first.",
            "child",
        )
    if has_children(child):
        raise ClientError(
            f"{child.full_name} is the guardian of a family of their own: "
            "a guardian cannot be someone's child.",
            "child",
        )
    child.guardian_id = guardian.id
    db.session.flush()
    return child


def add_child(
    guardian: Client,
    first_name: str | None,
    last_name: str | None,
    date_of_birth: date | None,
    email: str | None = None,
    phone: str | None = None,
) -> Client:
    """A new client in the guardian's family; they are reached through the guardian unless
    they have an email or phone of their own."""
    _check_can_be_guardian(guardian)
    if date_of_birth is None:
        raise ClientError("Enter the child's date of birth.", "date_of_birth")
    return create_client(
        first_name, last_name, email, phone, guardian=guardian, date_of_birth=date_of_birth
    )


def unlink_child(guardian: Client, child: Client) -> Client:
    """Take a child out of the guardian's family (they become a client on their own)."""
    if child.guardian_id != guardian.id:
        raise ClientError(f"{child.full_name} is not in {guardian.full_name}'s family.", "child")
    if not child.email and not child.phone and child.erased_at is None:
        raise ClientError(
            f"{child.full_name} has no email or phone of their own and would become unreachable: "
            "add one to their record first.",
            "child",
        )
    child.guardian_id = None
    db.session.flush()
    return child
