"""Invoices as the desk looks them up: a filtered list paged by keyset, a client's invoices, an
organisation's open ones. Each reads a fixed number of statements however many rows it shows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from ..clients.records import clients_by_id, search_clients
from ..extensions import db
from ..models import Client, Invoice, InvoiceLine, InvoiceStatus, PayerKind
from . import balances

PAGE_SIZE = 25
CLIENT_SEARCH_LIMIT = 50
OPEN_STATES = (InvoiceStatus.ISSUED, InvoiceStatus.PART_PAID)


@dataclass(frozen=True)
class Filters:
    status: InvoiceStatus | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    q: str | None = None  # a client's name, email or phone: as client or as payer
    payer: PayerKind | None = None
    organisation_id: uuid.UUID | None = None


@dataclass
class Row:
    invoice: Invoice
    balance: balances.Balance
    payer_name: str
    client: Client | None
    overdue: bool


@dataclass
class Page:
    rows: list[Row] = field(default_factory=list)
    next_after: tuple[datetime, uuid.UUID] | None = None


def _where(filters: Filters) -> list:
    where = []
    if filters.status is not None:
        where.append(Invoice.status == filters.status)
    if filters.issued_from is not None:
        where.append(Invoice.issued_on >= filters.issued_from)
    if filters.issued_to is not None:
        where.append(Invoice.issued_on <= filters.issued_to)
    if filters.payer is not None:
        where.append(Invoice.payer_kind == filters.payer)
    if filters.organisation_id is not None:
        where.append(Invoice.organisation_id == filters.organisation_id)
    if filters.q:
        ids = [c.id for c in search_clients(filters.q, limit=CLIENT_SEARCH_LIMIT)]
        where.append(or_(Invoice.client_id.in_(ids), Invoice.payer_client_id.in_(ids)))
    return where


def rows_of(invoices: list[Invoice], today: date) -> list[Row]:
    """Each invoice with its balance, payer and client: three statements for the balances and
    one for the people, whatever the number of invoices."""
    owed = balances.of_many(invoices)
    drafted = draft_totals([i.id for i in invoices if i.status == InvoiceStatus.DRAFT])
    people = clients_by_id([i.client_id for i in invoices] + [i.payer_client_id for i in invoices])
    rows = []
    for invoice in invoices:
        balance = owed[invoice.id]
        if invoice.status == InvoiceStatus.DRAFT:
            balance = balances.Balance(drafted.get(invoice.id, 0), 0, 0)
        rows.append(
            Row(
                invoice=invoice,
                balance=balance,
                payer_name=payer_name(invoice, people),
                client=people.get(invoice.client_id),
                overdue=is_overdue(invoice, balance, today),
            )
        )
    return rows


def draft_totals(ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """What drafts would total if issued now (issued invoices keep their own fixed total)."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(InvoiceLine.invoice_id, func.sum(InvoiceLine.gross_minor))
        .where(InvoiceLine.invoice_id.in_(ids))
        .group_by(InvoiceLine.invoice_id)
    )
    return {invoice_id: int(total or 0) for invoice_id, total in rows}


def payer_name(invoice: Invoice, people: dict[uuid.UUID, Client]) -> str:
    if invoice.payer_name:
        return invoice.payer_name  # as addressed when issued
    if invoice.payer_kind == PayerKind.ORGANISATION:
        return invoice.organisation.name if invoice.organisation else "?"
    payer = people.get(invoice.payer_client_id)
    return payer.full_name if payer else "?"


def is_overdue(invoice: Invoice, balance: balances.Balance, today: date) -> bool:
    return (
        invoice.status in OPEN_STATES
        and invoice.due_on is not None
        and invoice.due_on < today
        and balance.due > 0
    )


def page(
    filters: Filters,
    *,
    today: date,
    after: tuple[datetime, uuid.UUID] | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """Newest first, keyset-paged on (created_at, id)."""
    query = (
        select(Invoice)
        .options(joinedload(Invoice.organisation))
        .where(*_where(filters))
        .order_by(Invoice.created_at.desc(), Invoice.id.desc())
        .limit(size + 1)
    )
    if after is not None:
        created_at, last_id = after
        query = query.where(
            or_(
                Invoice.created_at < created_at,
                and_(Invoice.created_at == created_at, Invoice.id < last_id),
            )
        )
    found = list(db.session.scalars(query))
    more = len(found) > size
    found = found[:size]
    result = Page(rows=rows_of(found, today))
    if more:
        result.next_after = (found[-1].created_at, found[-1].id)
    return result


def of_client(client: Client, *, today: date, limit: int = 50) -> list[Row]:
    """The client's invoices, as the one cared for or as the payer, newest first."""
    found = db.session.scalars(
        select(Invoice)
        .options(joinedload(Invoice.organisation))
        .where(or_(Invoice.client_id == client.id, Invoice.payer_client_id == client.id))
        .order_by(Invoice.created_at.desc(), Invoice.id.desc())
        .limit(limit)
    ).all()
    return rows_of(list(found), today)


def owed_by(rows: list[Row], payer_client_id: uuid.UUID) -> int:
    """What a client owes as the payer of these invoices."""
    return sum(
        row.balance.due
        for row in rows
        if row.invoice.payer_client_id == payer_client_id and row.invoice.status in OPEN_STATES
    )


def open_of_organisation(organisation_id: uuid.UUID, *, today: date) -> list[Row]:
    """An organisation's issued invoices with something still due, oldest first (a statement)."""
    found = db.session.scalars(
        select(Invoice)
        .options(joinedload(Invoice.organisation))
        .where(Invoice.organisation_id == organisation_id, Invoice.status.in_(OPEN_STATES))
        .order_by(Invoice.issued_on, Invoice.number)
    ).all()
    return [row for row in rows_of(list(found), today) if row.balance.due > 0]
