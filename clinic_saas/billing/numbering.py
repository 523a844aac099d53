"""Gapless document numbers per clinic: NS-2026-000042.

The number is taken in the transaction that issues the document, by an UPDATE of the clinic's
counter row for that kind and year: on PostgreSQL the row stays locked until that transaction
ends, so a concurrent issue waits and then takes the next number; on SQLite the first write takes
the database's write lock. A transaction that rolls back gives its number back, so the issued
numbers have no gap.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Clinic, DocumentCounter

WIDTH = 6
KINDS = {"invoice": "", "credit_note": "CN"}


def _ensure_counter(kind: str, year: int) -> None:
    """The counter row exists: inserted once, in a savepoint so that two first issues of the year
    racing to insert it both carry on (the loser's insert fails, the row is there)."""
    exists = db.session.scalar(
        select(DocumentCounter.id).where(DocumentCounter.kind == kind, DocumentCounter.year == year)
    )
    if exists is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(DocumentCounter(kind=kind, year=year, last_number=0))
    except IntegrityError:
        pass  # another transaction created it first: the UPDATE below waits for it


def next_number(clinic: Clinic, kind: str, year: int) -> tuple[int, str]:
    """(sequence, formatted number) for the next document of `kind` issued in `year`."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    _ensure_counter(kind, year)
    sequence = db.session.execute(
        update(DocumentCounter)
        .where(DocumentCounter.kind == kind, DocumentCounter.year == year)
        .values(last_number=DocumentCounter.last_number + 1)
        .returning(DocumentCounter.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return sequence, format_number(clinic.invoice_prefix, KINDS[kind], year, sequence)


def format_number(prefix: str, kind_mark: str, year: int, sequence: int) -> str:
    parts = [part for part in (prefix, kind_mark, str(year), f"{sequence:0{WIDTH}d}") if part]
    return "-".join(parts)
