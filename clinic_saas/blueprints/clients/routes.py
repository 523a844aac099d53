"""Client records at the desk:
the list and search, a client's page, editing, family links, merging.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ... import display
from ...billing import listing
from ...clients import (
    ClientError,
    add_child,
    children_of,
    create_client,
    guardian_of,
    intake_details,
    link_child,
    merge_clients,
    merge_problem,
    possible_duplicates,
    search_clients,
    unlink_child,
    update_client,
)
from ...clients.merge import client_references, moved_summary, preview
from ...clients.records import clients_by_id, list_clients
from ...clinic_time import today_in
from ...clinical import status as intake_status
from ...extensions import db
from ...models import ERASED_NAME, Appointment, AppointmentStatus, Client
from ...models.base import utcnow
from ...permissions import can, requires
from ...tenancy import find, get_or_404
from ...unit_of_work import discard_changes
from ..duplicate_offer import CHOICE, NEW_ANYWAY, chosen_existing, new_chosen_anyway
from ..forms import ClientSearchForm
from ..refusal_views import flash_refusal, place_refusal
from .forms import (
    ClientForm,
    LinkChildForm,
    MergeForm,
    NewChildForm,
    UnlinkChildForm,
)

bp = Blueprint("clients", __name__, url_prefix="/c/<clinic_slug>/clients")

PER_PAGE = 50
SEARCH_LIMIT = 50
FAMILY_SEARCH_LIMIT = 10
APPOINTMENTS_SHOWN = 20
# Where each client's intake stands, as the desk may see it: never what the intake says.
INTAKE_BADGES = {
    intake_status.IntakeState.MISSING: ("No intake", "text-bg-secondary"),
    intake_status.IntakeState.OUTDATED: ("Out of date", "text-bg-warning"),
    intake_status.IntakeState.CURRENT: ("Complete", "text-bg-success"),
}
FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "date_of_birth": "Date of birth",
    "email": "Email",
    "phone": "Phone",
    "address": "Address",
    "emergency_contact_name": "Emergency contact",
    "emergency_contact_phone": "Emergency contact's phone",
    "gp_name": "GP",
    "gp_practice": "GP practice",
    "sport": "Sport",
    "activity_level": "Activity level",
}


def _shown(value, field: str | None = None) -> str:
    """A record's value as the merge comparison writes it."""
    if value in (None, ""):
        return "—"
    if field in ("phone", "emergency_contact_phone"):
        return display.phone(value, g.clinic.country)
    if isinstance(value, date):
        return display.day(value)
    return str(getattr(value, "label", value))


@bp.context_processor
def _template_helpers() -> dict:
    return {
        "intake_badge": lambda summary: INTAKE_BADGES[summary.state],
        "erased_name": ERASED_NAME,
        "field_label": FIELD_LABELS.get,
        "shown": _shown,
    }


# The list and search -----------------------------------------------------------------------------


@bp.route("")
@requires("clients.view")
def index():
    search = ClientSearchForm(request.args)
    q = (search.q.data or "").strip()[:100]
    after = None
    if q:
        clients = search_clients(q, limit=SEARCH_LIMIT + 1)
    else:
        if request.args.get("after"):
            after = find(Client, request.args["after"])
        clients = list_clients(after, limit=PER_PAGE + 1)
    more = len(clients) > (SEARCH_LIMIT if q else PER_PAGE)
    clients = clients[: SEARCH_LIMIT if q else PER_PAGE]
    return render_template(
        "clients/index.html",
        search=search,
        q=q,
        clients=clients,
        guardians=clients_by_id(c.guardian_id for c in clients),
        intake=intake_status.summaries((c.id for c in clients), clinic=g.clinic),
        more=more,
        next_after=clients[-1].id if more and not q else None,
        paged=after is not None,
        today=today_in(g.clinic),
        search_limit=SEARCH_LIMIT,
    )


# Adding and editing a record ---------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@requires("clients.manage")
def new():
    form = ClientForm()
    if request.method == "GET":
        return render_template("clients/form.html", form=form, client=None)
    if form.validate_on_submit():
        values = form.record_values()
        existing = chosen_existing()
        if existing is not None:
            flash(f"Nothing was added: this is {existing.full_name}'s record.", "info")
            return redirect(url_for(".show", client_id=existing.id))
        duplicates = (
            []
            if new_chosen_anyway()
            else possible_duplicates(
                g.clinic,
                **{
                    name: values[name]
                    for name in ("email", "phone", "first_name", "last_name", "date_of_birth")
                },
            )
        )
        if duplicates:
            return render_template(
                "clients/form.html",
                form=form,
                client=None,
                duplicates=duplicates,
                choice=CHOICE,
                new_anyway=NEW_ANYWAY,
            )
        try:
            client = create_client(
                values.pop("first_name"),
                values.pop("last_name"),
                values.pop("email"),
                values.pop("phone"),
                **values,
            )
        except ClientError as problem:
            place_refusal(form, problem)
        else:
            flash(f"{client.full_name} was added.", "success")
            return redirect(url_for(".show", client_id=client.id))
    return render_template("clients/form.html", form=form, client=None), 400


@bp.route("/<client_id>/edit", methods=["GET", "POST"])
@requires("clients.manage")
def edit(client_id: str):
    client = get_or_404(Client, client_id)
    if client.erased_at is not None:
        flash("This client's identity was erased: the record can no longer be edited.", "warning")
        return redirect(url_for(".show", client_id=client.id))
    if request.method == "GET":
        return render_template("clients/form.html", form=ClientForm.of(client), client=client)
    form = ClientForm()
    if form.validate_on_submit():
        try:
            update_client(client, **form.record_values())
        except ClientError as problem:
            place_refusal(form, problem)
        else:
            flash(f"{client.full_name}'s record was saved.", "success")
            return redirect(url_for(".show", client_id=client.id))
    return render_template("clients/form.html", form=form, client=client), 400


# A client's page ---------------------------------------------------------------------------------


@bp.route("/<client_id>")
@requires("clients.view")
def show(client_id: str):
    return _client_page(get_or_404(Client, client_id))


def _appointments(client: Client, *, upcoming: bool) -> tuple[list[Appointment], int]:
    """The client's next (or latest) appointments, and how many there are in all."""
    now = utcnow()
    when = Appointment.starts_at >= now if upcoming else Appointment.starts_at < now
    mine = (Appointment.client_id == client.id, when)
    order = Appointment.starts_at.asc() if upcoming else Appointment.starts_at.desc()
    rows = db.session.scalars(
        select(Appointment)
        .options(joinedload(Appointment.service), joinedload(Appointment.therapist))
        .where(*mine)
        .order_by(order)
        .limit(APPOINTMENTS_SHOWN)
    ).all()
    total = len(rows)
    if total == APPOINTMENTS_SHOWN:
        total = db.session.scalar(select(func.count(Appointment.id)).where(*mine))
    return list(rows), total


def _last_visit(past: list[Appointment], upcoming: list[Appointment]) -> Appointment | None:
    """What "Book next visit" repeats: the latest visit not cancelled, else the next booked."""
    live = [a for a in past + upcoming if a.status != AppointmentStatus.CANCELLED]
    return live[0] if live else None


def _client_page(
    client: Client,
    *,
    child_form: NewChildForm | None = None,
    family_error: str | None = None,
    status: int = 200,
):
    guardian = guardian_of(client)
    children = children_of(client) if guardian is None else []
    family_q = (request.args.get("family_q") or "").strip()[:100]
    family_matches = []
    if family_q and guardian is None and client.erased_at is None:
        excluded = {client.id, *(c.id for c in children)}
        family_matches = [
            c for c in search_clients(family_q, limit=FAMILY_SEARCH_LIMIT) if c.id not in excluded
        ]
    upcoming, upcoming_total = _appointments(client, upcoming=True)
    past, past_total = _appointments(client, upcoming=False)
    invoice_rows = None
    if can("invoices.view"):
        invoice_rows = listing.of_client(client, today=today_in(g.clinic))
    return render_template(
        "clients/show.html",
        client=client,
        guardian=guardian,
        children=children,
        intake=intake_status.summary(client.id, clinic=g.clinic),
        today=today_in(g.clinic),
        upcoming=upcoming,
        upcoming_total=upcoming_total,
        past=past,
        past_total=past_total,
        invoice_rows=invoice_rows,
        invoice_owed=listing.owed_by(invoice_rows or [], client.id),
        last_visit=_last_visit(past, upcoming),
        details_change=intake_details.latest_change(client),
        child_form=child_form or NewChildForm(formdata=None),
        family_q=family_q,
        family_matches=family_matches,
        family_error=family_error,
        action_form=UnlinkChildForm(formdata=None),
    ), status


# Family ------------------------------------------------------------------------------------------


@bp.route("/<client_id>/family", methods=["POST"])
@requires("clients.manage")
def family(client_id: str):
    guardian = get_or_404(Client, client_id)
    if "child" in request.form:
        form = LinkChildForm()
        if not form.validate_on_submit():
            abort(400)
        child = find(Client, form.child.data)
        if child is None:
            return _client_page(
                guardian, family_error="That client was not found: search again.", status=400
            )
        try:
            link_child(guardian, child)
        except ClientError as problem:
            discard_changes()
            return _client_page(guardian, family_error=str(problem), status=400)
        flash(f"{child.full_name} is now in {guardian.full_name}'s family.", "success")
        return redirect(url_for(".show", client_id=guardian.id))
    child_form = NewChildForm()
    if child_form.validate_on_submit():
        try:
            child = add_child(
                guardian,
                child_form.first_name.data,
                child_form.last_name.data,
                child_form.date_of_birth.data,
                email=child_form.email.data,
            )
        except ClientError as problem:
            if problem.field in child_form:
                place_refusal(child_form, problem)
            else:
                discard_changes()
                return _client_page(
                    guardian, child_form=child_form, family_error=str(problem), status=400
                )
        else:
            flash(f"{child.full_name} was added to {guardian.full_name}'s family.", "success")
            return redirect(url_for(".show", client_id=guardian.id))
    return _client_page(guardian, child_form=child_form, status=400)


@bp.route("/<client_id>/family/unlink", methods=["POST"])
@requires("clients.manage")
def family_unlink(client_id: str):
    guardian = get_or_404(Client, client_id)
    form = UnlinkChildForm()
    if not form.validate_on_submit():
        abort(400)
    child = find(Client, form.child.data)
    if child is None:
        abort(404)
    back = child if form.back.data == "child" else guardian
    try:
        unlink_child(guardian, child)
    except ClientError as problem:
        return flash_refusal(problem, url_for(".show", client_id=back.id))
    flash(f"{child.full_name} is no longer in {guardian.full_name}'s family.", "success")
    return redirect(url_for(".show", client_id=back.id))


# Merging duplicates ------------------------------------------------------------------------------


@bp.route("/<client_id>/merge", methods=["GET", "POST"])
@requires("clients.merge")
def merge(client_id: str):
    keep = get_or_404(Client, client_id)
    if request.method == "GET":
        duplicate = None
        if request.args.get("duplicate"):
            duplicate = find(Client, request.args["duplicate"])
            if duplicate is None:
                abort(404)
        return _merge_page(keep, duplicate)
    form = MergeForm()
    if not form.validate_on_submit():
        abort(400)
    duplicate = find(Client, form.duplicate.data)
    if duplicate is None:
        return _merge_page(keep, None, error="That record was not found: search again.", status=400)
    name = duplicate.full_name
    try:
        moved = merge_clients(keep, duplicate)
    except ClientError as problem:
        discard_changes()
        return _merge_page(keep, duplicate, error=str(problem), status=400)
    summary = moved_summary(moved)
    flash(
        f"{name}'s record was merged into {keep.full_name}'s{f' ({summary})' if summary else ''}.",
        "success",
    )
    return redirect(url_for(".show", client_id=keep.id))


def _merge_page(keep: Client, duplicate: Client | None, error: str | None = None, status=200):
    q = (request.args.get("q") or "").strip()[:100]
    matches = []
    if q and duplicate is None:
        matches = [c for c in search_clients(q, limit=SEARCH_LIMIT) if c.id != keep.id]
    comparison = problem = None
    if duplicate is not None:
        problem = error or merge_problem(keep, duplicate)
        comparison = preview(keep, duplicate)
    return render_template(
        "clients/merge.html",
        client=keep,
        duplicate=duplicate,
        q=q,
        matches=matches,
        comparison=comparison,
        problem=problem,
        error=error if duplicate is None else None,
        counts=_record_counts(keep, duplicate) if duplicate is not None else [],
        form=MergeForm(formdata=None, duplicate=str(duplicate.id) if duplicate else ""),
    ), status


# What moves with a merge, as the comparison counts it: (table, column) -> (key, label).
MOVED_RECORDS = {
    ("appointment", "client_id"): ("appointments", "Appointments"),
    ("package_sale", "client_id"): ("packages", "Packages bought"),
    ("client_membership", "client_id"): ("memberships", "Memberships"),
    ("intake_response", "client_id"): ("intakes", "Signed intakes"),
    ("treatment_note", "client_id"): ("notes", "Treatment notes"),
    ("client", "guardian_id"): ("children", "Children in the family"),
}


def _record_counts(keep: Client, duplicate: Client) -> list[dict]:
    """For the side-by-side comparison: how many of each record each client has."""
    counts = []
    for model, attribute in client_references():
        described = MOVED_RECORDS.get((model.__tablename__, attribute))
        if described is None:
            continue
        key, label = described
        column = getattr(model, attribute)
        rows = dict(
            db.session.execute(
                select(column, func.count())
                .where(column.in_([keep.id, duplicate.id]))
                .group_by(column)
            ).all()
        )
        counts.append(
            {
                "key": key,
                "label": label,
                "kept": rows.get(keep.id, 0),
                "duplicate": rows.get(duplicate.id, 0),
            }
        )
    order = [key for key, _label in MOVED_RECORDS.values()]
    return sorted(counts, key=lambda row: order.index(row["key"]))
