"""The owner's view of the audit log:
who read or exported which clinical record, when, from where.

Read-only by design: there is no route that edits or deletes an event (the model refuses UPDATE,
and so does a PostgreSQL trigger).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from flask import Blueprint, g, render_template, request, url_for
from sqlalchemy import and_, or_, select

from ...clients import search_clients
from ...clients.records import clients_by_id
from ...clinic_time import local_instant
from ...clinical.audit import ACTIONS, with_merged
from ...extensions import db
from ...models import ERASED_NAME, AuditEvent, Client, Membership, User
from ...permissions import requires
from ...tenancy import parse_id
from .forms import AuditFilterForm

bp = Blueprint("audit", __name__, url_prefix="/c/<clinic_slug>/audit")

PER_PAGE = 50
CLIENT_MATCHES = 20
MERGED_NAME = "Merged client"  # the client row is gone: folded into another record


def _subject(event: AuditEvent) -> str:
    parts = []
    if event.subject_type:
        parts.append(event.subject_type.replace("_", " ").capitalize())
    for key, value in (event.detail or {}).items():
        if key == "fields":  # the names of the fields a change touched, never their values
            shown = ", ".join(str(name).replace("_", " ") for name in value)
        else:
            shown = len(value) if isinstance(value, list | tuple | dict) else value  # ids: count
        parts.append(f"{key.replace('_', ' ')}: {shown}")
    return " · ".join(parts)


FILTERS = ("client", "client_id", "user", "action", "date_from", "date_to")


def filter_url(**changes) -> str:
    """This page with the current filters, some changed (None drops one), from the newest event."""
    args = {k: v for k in FILTERS if (v := request.args.get(k))}
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    return url_for("audit.index", **args)


@bp.context_processor
def _template_helpers() -> dict:
    return {
        "subject": _subject,
        "action_label": ACTIONS.get,
        "filter_url": filter_url,
    }


def _local_midnight(day: date) -> datetime:
    return local_instant(day, time.min, g.clinic.tz)


def _cursor(event: AuditEvent) -> str:
    return f"{event.at.isoformat()}_{event.id}"


def _parse_cursor(value: str) -> tuple[datetime, uuid.UUID] | None:
    at, _, event_id = (value or "").partition("_")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return None
    key = parse_id(event_id)
    if key is None or moment.tzinfo is None:
        return None
    return moment, key


def _staff_choices() -> list[tuple[str, str]]:
    """Everyone who is or was a member of the clinic, by name."""
    rows = db.session.execute(
        select(User.id, User.name, Membership.active)
        .join(Membership, Membership.user_id == User.id)
        .order_by(User.name, User.id)
    )
    return [(str(uid), name if active else f"{name} (former)") for uid, name, active in rows]


@bp.route("")
@requires("audit.view")
def index():
    form = AuditFilterForm(request.args)
    form.user.choices = [("", "Anyone"), *_staff_choices()]
    form.action.choices = [("", "Any action"), *ACTIONS.items()]
    if not form.validate():
        return _page(form, [], {}, None, [], status=400)

    query = select(AuditEvent)
    chosen_client = None
    matches: list[Client] = []
    client_id = parse_id(form.client_id.data) if form.client_id.data else None
    if client_id is not None:
        # Events written before a merge name the merged-away record: they belong to this client.
        query = query.where(AuditEvent.client_id.in_(with_merged([client_id])))
        chosen_client = client_id
    elif form.client.data:
        matches = search_clients(form.client.data, limit=CLIENT_MATCHES)
        query = query.where(AuditEvent.client_id.in_(with_merged(c.id for c in matches)))
    if form.user.data:
        query = query.where(AuditEvent.user_id == parse_id(form.user.data))
    if form.action.data:
        query = query.where(AuditEvent.action == form.action.data)
    if form.date_from.data:
        query = query.where(AuditEvent.at >= _local_midnight(form.date_from.data))
    if form.date_to.data:
        query = query.where(AuditEvent.at < _local_midnight(form.date_to.data + timedelta(1)))
    cursor = _parse_cursor(form.before.data)
    if cursor is not None:
        at, event_id = cursor
        query = query.where(
            or_(AuditEvent.at < at, and_(AuditEvent.at == at, AuditEvent.id < event_id))
        )
    rows = db.session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(PER_PAGE + 1)
    ).all()
    events, more = rows[:PER_PAGE], len(rows) > PER_PAGE
    ids = {e.client_id for e in events if e.client_id} | ({chosen_client} - {None})
    clients = clients_by_id(ids)
    older = filter_url(before=_cursor(events[-1])) if more else None
    return _page(form, events, clients, older, matches, chosen_client=chosen_client)


def _client_name(clients: dict, client_id: uuid.UUID | None) -> str | None:
    if client_id is None:
        return None
    client = clients.get(client_id)
    if client is None:
        return MERGED_NAME
    return ERASED_NAME if client.erased_at is not None else client.full_name


def _page(form, events, clients, older, matches, *, chosen_client=None, status=200):
    filtered = any(
        (form.client.data, form.client_id.data, form.user.data, form.action.data)
    ) or any((form.date_from.data, form.date_to.data))
    newest = filter_url() if form.before.data else None
    return render_template(
        "audit/index.html",
        form=form,
        events=events,
        client_name=lambda client_id: _client_name(clients, client_id),
        chosen_client_name=_client_name(clients, chosen_client),
        matches=matches,
        older=older,
        newest=newest,
        filtered=filtered,
        per_page=PER_PAGE,
    ), status
