"""Writing the audit trail: every read, export or change of a clinical record leaves one row.

Callers record the event in the same transaction as the read itself, so a page that showed
clinical content and an audit row that says so are committed together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from flask import g, has_request_context, request
from flask_login import current_user

from ..extensions import db
from ..models import AuditEvent

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
    "client.export": "Exported a client's record",
    "client.merge": "Merged duplicate clients",
    "client.erase": "Erased a client's identity",
}


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
) -> AuditEvent:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    user_id, who = _actor()
    event = AuditEvent(
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
    """One event per client; SQLAlchemy sends them as one multi-row INSERT (a day sheet showing
    many clients' flags costs one statement, whatever the number of clients)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    user_id, who = _actor()
    ip = _ip()
    db.session.add_all(
        AuditEvent(
            action=action,
            user_id=user_id,
            actor=who,
            client_id=client_id,
            subject_type=subject_type,
            ip_address=ip,
            detail={},
        )
        for client_id in dict.fromkeys(client_ids)
    )
