"""A client's record on request: export as JSON or as a readable document, and erasure."""

from __future__ import annotations

import json
from datetime import date, datetime

from flask import Blueprint, Response, flash, g, redirect, render_template, url_for
from sqlalchemy import func, select

from ... import display
from ...clinic_time import today_in
from ...clinical import audit
from ...extensions import db
from ...models import (
    Appointment,
    Client,
    ClientMembership,
    IntakeResponse,
    PackageSale,
    TreatmentNote,
)
from ...permissions import requires
from ...records.erasure import ErasureRefused, erase, erasure_problems, retention
from ...records.export import client_record, file_name, note_lines
from ...tenancy import get_or_404
from ...unit_of_work import discard_changes
from .forms import EraseForm, same_name

bp = Blueprint("records", __name__, url_prefix="/c/<clinic_slug>/clients")


def _when(iso: str | None) -> str:
    """An ISO instant of the export as the document shows it: 'Tue 3 Mar 2026, 10:00'."""
    if not iso:
        return "—"
    moment = datetime.fromisoformat(iso)
    return display.instant(moment, moment.tzinfo)


def _on(iso: str | None) -> str:
    return display.day(date.fromisoformat(iso)) if iso else "—"


def _money(money: dict | None) -> str:
    if money is None:
        return "—"
    return display.price(money["amount_minor"], money["currency"], g.clinic.country)


@bp.context_processor
def _template_helpers() -> dict:
    return {"when": _when, "on": _on, "money": _money, "note_lines": note_lines}


# Export ------------------------------------------------------------------------------------------


def _exported(client_id: str, file_format: str) -> tuple[Client, dict]:
    """The client's whole record, with the audit event that says who exported it and how."""
    client = get_or_404(Client, client_id)
    record = client_record(client, clinic=g.clinic)
    audit.record(
        "client.export",
        client_id=client.id,
        subject_type="client",
        subject_id=client.id,
        detail={"format": file_format},
    )
    return client, record


@bp.route("/<client_id>/export.json")
@requires("clients.export")
def export_json(client_id: str):
    client, record = _exported(client_id, "json")
    name = file_name(client, today_in(g.clinic), "json")
    return Response(
        json.dumps(record, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/<client_id>/export")
@requires("clients.export")
def export_document(client_id: str):
    client, record = _exported(client_id, "html")
    return render_template("records/export.html", client=client, record=record)


# Erasure -----------------------------------------------------------------------------------------


def _kept_and_erased(client: Client) -> dict[str, int]:
    """How many rows of each kind the erasure keeps or deletes (counts only, no content)."""

    def count(model) -> int:
        return db.session.scalar(select(func.count(model.id)).where(model.client_id == client.id))

    return {
        "appointments": count(Appointment),
        "package_sales": count(PackageSale),
        "memberships": count(ClientMembership),
        "intakes": count(IntakeResponse),
        "notes": count(TreatmentNote),
    }


def _erase_page(client: Client, form: EraseForm, problems: list[str], status: int = 200):
    return render_template(
        "records/erase.html",
        client=client,
        form=form,
        problems=problems,
        retention=retention(client, clinic=g.clinic) if client.erased_at is None else None,
        counts=_kept_and_erased(client),
    ), status


@bp.route("/<client_id>/erase", methods=["GET", "POST"])
@requires("clients.erase")
def erase_client(client_id: str):
    client = get_or_404(Client, client_id)
    today = today_in(g.clinic)
    form = EraseForm()
    if not form.is_submitted():
        return _erase_page(
            client, EraseForm(formdata=None), erasure_problems(client, today, clinic=g.clinic)
        )
    problems = erasure_problems(client, today, clinic=g.clinic)
    if problems:
        return _erase_page(client, form, problems, 409)
    if not form.validate():
        return _erase_page(client, form, [], 400)
    if not same_name(form.confirm_name.data, client.full_name):
        form.confirm_name.errors.append(
            f"That is not the client's name: type {client.full_name} exactly as shown."
        )
        return _erase_page(client, form, [], 400)
    name = client.full_name
    try:
        erased = erase(client, today, clinic=g.clinic)
    except ErasureRefused as refusal:  # changed since the checks above
        discard_changes()
        return _erase_page(client, form, [str(refusal)], refusal.status)
    flash(
        f"{name}'s identity was erased: {erased.intakes} intake(s) and {erased.notes} treatment "
        "note(s) deleted; appointments and purchases kept for the accounts.",
        "success",
    )
    return redirect(url_for("clients.show", client_id=client.id))
