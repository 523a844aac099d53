"""Writing the audit trail: every read, export or change of a clinical record leaves one row.

Callers record the event in the same transaction as the read itself, so a page that showed
clinical content and an audit row that says so are committed together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import AuditEvent
from ..models.base import utcnow

# The actions the log knows; the owner's audit page filters by these.
ACTIONS = {
    "intake.view": "Viewed an intake",
    "intake.submit": "Submitted an intake",
    "intake.send": "Sent an intake link",
    "flags.view": "Viewed red flags",
    "flags.acknowledge": "Acknowledged red flags",
    "note.view": "Viewed a treatment note",
    "note.write": "Saved a treatment note draft",
    "note.sign": "Signed a treatment note",
    "note.amend": "Amended a treatment note",
    "client.details": "Confirmed their details in an intake",
    "client.export": "Exported a client's record",
    "client.merge": "Merged duplicate clients",
    "client.erase": "Erased a client's identity",
}

# Reads that repeat: the same staff member reading the same kind of thing about the same client
# again within REPEAT_WINDOW writes no new row (a day view reloaded all morning is one read per
# flagged client, not one per load). The first read of each window is kept, so the log still
# says who read what and when. Changes and exports are always written.
REPEATABLE_READS = frozenset({"intake.view", "flags.view", "note.view"})
REPEAT_WINDOW = timedelta(minutes=15)


def _recently_read(action: str, user_id, client_ids: list[uuid.UUID], now, subject_id=None):
    """The clients among client_ids this user already read (action) within the window: one
    indexed look-up for the whole batch."""
    if action not in REPEATABLE_READS or user_id is None or not client_ids:
        return set()
    query = select(AuditEvent.client_id).where(
        AuditEvent.client_id.in_(client_ids),
        AuditEvent.at > now - REPEAT_WINDOW,
        AuditEvent.action == action,
        AuditEvent.user_id == user_id,
    )
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == subject_id)
    return set(db.session.scalars(query))


def _actor() -> tuple[uuid.UUID | None, str]:
    membership = g.get("membership")
    if has_request_context() and current_user.is_authenticated:
        role = f" ({membership.role.label.lower()})" if membership is not None else ""
        return current_user.id, f"{current_user.name}{role}"[:160]
    if has_request_context():
        return None, "Client (intake link)"
    return None, "System"


def _ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def record(
    action: str,
    *,
    client_id: uuid.UUID | None = None,
    subject_type: str | None = None,
    subject_id: uuid.UUID | None = None,
    detail: dict | None = None,
    actor: str | None = None,
) -> AuditEvent | None:
    """Adds the event; None when it repeats a read of the same thing by the same person within
    the window (see REPEATABLE_READS)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    user_id, who = _actor()
    now = utcnow()
    if client_id is not None and _recently_read(
        action, user_id, [client_id], now, subject_id=subject_id
    ):
        return None
    event = AuditEvent(
        at=now,
        action=action,
        user_id=user_id,
        actor=actor or who,
        client_id=client_id,
        subject_type=subject_type,
        subject_id=subject_id,
        ip_address=_ip(),
        detail=detail or {},
    )
    db.session.add(event)
    return event


def record_many(action: str, client_ids: Iterable[uuid.UUID], *, subject_type=None) -> None:
    """One event per client not already read within the window; one look-up and one multi-row
    INSERT (a day sheet showing many clients' flags costs two statements, whatever the number of
    clients)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    user_id, who = _actor()
    ip = _ip()
    now = utcnow()
    unique = list(dict.fromkeys(client_ids))
    seen = _recently_read(action, user_id, unique, now)
    db.session.add_all(
        AuditEvent(
            at=now,
            action=action,
            user_id=user_id,
            actor=who,
            client_id=client_id,
            subject_type=subject_type,
            ip_address=ip,
            detail={},
        )
        for client_id in unique
        if client_id not in seen
    )


def with_merged(client_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """client_ids and every client id merged into them, through chains of merges.

    Old events keep the id of the record they were written about (the log is never edited), so
    the merge events, which name both ids, are what link a merged-away record to its survivor.
    One query per generation of merges, not per client.
    """
    found = set(client_ids)
    frontier = set(found)
    while frontier:
        details = db.session.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.action == "client.merge", AuditEvent.client_id.in_(frontier)
            )
        )
        frontier = set()
        for detail in details:
            try:
                merged = uuid.UUID(str((detail or {}).get("merged_client_id")))
            except ValueError:
                continue
            if merged not in found:
                found.add(merged)
                frontier.add(merged)
    return found
