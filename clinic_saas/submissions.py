"""One-time form keys: what a form records, it records once (double clicks, resent requests).

A form that records something carries a key issued when its page was rendered. The request claims
the key as its first write, in the same transaction as what it records, and settles the claim
with the id of what it created; the key is unique per clinic, so a repeat of the form finds the
first claim (or, arriving while the first request still runs, waits for it and is refused by the
database) and shows what the first one recorded instead of writing again.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import FormSubmission

# How the database names a clash on the key: PostgreSQL names the constraint, SQLite its columns.
_KEY_CLASH = ("uq_form_submission_clinic_id_key", "form_submission.key")


class KeyTaken(Exception):
    """Another request claimed this key first. The session's transaction is spoiled: roll it back
    before reading that claim (it is committed by then)."""


def first(key: uuid.UUID) -> FormSubmission | None:
    """The claim already made with this key in the bound clinic, if any."""
    return db.session.scalar(select(FormSubmission).where(FormSubmission.key == key))


def claim(key: uuid.UUID, kind: str) -> FormSubmission:
    """Claim the key for what this request records (`kind`); call it before any other write.

    Raises KeyTaken when a concurrent request with the same key got there first.
    """
    submission = FormSubmission(key=key, kind=kind)
    db.session.add(submission)
    try:
        db.session.flush()
    except IntegrityError as error:
        if not any(name in str(error.orig) for name in _KEY_CLASH):
            raise
        raise KeyTaken(str(key)) from error
    return submission


def settle(submission: FormSubmission, object_id: uuid.UUID) -> None:
    """Name what the claiming request recorded, so that a repeat can show it."""
    submission.object_id = object_id
    db.session.flush()
