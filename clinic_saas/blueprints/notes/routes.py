"""Before and after a session: acknowledging red flags, and the SOAP treatment note.

Who may do what (beyond the permission each view declares):
- acknowledge red flags, write, save and sign the note: the appointment's own therapist (the
  therapist profile linked to the member's login) or the clinic's owner;
- read a note: owner, manager, therapist (clinical.read); every view of a note is audited;
- amend a signed note: any member who may write clinical records (clinical.write): the
  amendment carries its author's name and the date.
Pages that answer with an error status show no decrypted content: the transaction of such a
request is rolled back, audit events included, so nothing may be read there unrecorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy.orm import joinedload

from ...clinical import flags, notes
from ...clinical.notes import NoteBlocked, NoteError, NoteLocked
from ...models import Appointment, TreatmentNote
from ...permissions import can, may_treat, requires
from ...tenancy import get_or_404
from ...unit_of_work import discard_changes
from ..forms import OneClickForm
from ..redirects import local_path
from ..refusal_views import flash_refusal, one_click, place_refusal
from .forms import AmendForm, NoteForm, form_data

bp = Blueprint("notes", __name__, url_prefix="/c/<clinic_slug>/appointments")


def _appointment_or_404(appointment_id: str) -> Appointment:
    return get_or_404(
        Appointment,
        appointment_id,
        joinedload(Appointment.client),
        joinedload(Appointment.service),
        joinedload(Appointment.therapist),
    )


def _detail_url(appointment: Appointment) -> str:
    return url_for("appointments.detail", appointment_id=appointment.id)


def _note_url(appointment: Appointment) -> str:
    return url_for("notes.note", appointment_id=appointment.id)


@bp.context_processor
def _helpers() -> dict:
    return {
        "region_label": notes.region_label,
        "technique_label": notes.technique_label,
        "next_visit_text": notes.next_visit_text,
        "regions_by_view": notes.regions_by_view,
        "VIEWS": notes.VIEWS,
    }


# Red flags ---------------------------------------------------------------------------------------


@bp.route("/<appointment_id>/acknowledge", methods=["POST"])
@requires("clinical.write")
def acknowledge(appointment_id: str):
    appointment = _appointment_or_404(appointment_id)
    if not may_treat(appointment):
        abort(403)
    form = OneClickForm()
    back = local_path(form.next.data, within=f"/c/{g.clinic.slug}/") or _detail_url(appointment)

    def acknowledge_flags() -> str | None:
        if flags.acknowledge(appointment, g.membership, clinic=g.clinic) is None:
            flash("Already acknowledged: nothing changed.", "info")
            return None
        return f"Acknowledged before treating {appointment.client.full_name}."

    return one_click(acknowledge_flags, back, form=form, refused="warning")


# The note ----------------------------------------------------------------------------------------


@bp.route("/<appointment_id>/note", methods=["GET"])
@requires("clinical.read")
def note(appointment_id: str):
    appointment = _appointment_or_404(appointment_id)
    existing = notes.note_for(appointment.id)
    if may_treat(appointment) and (existing is None or not existing.is_signed):
        blocked = notes.writing_blocked(appointment, g.clinic)
        if blocked is None:
            return _edit_page(appointment, existing)
        if existing is None:
            flash(blocked, "warning")
            return redirect(_detail_url(appointment))
        return _note_page(appointment, existing, notice=blocked)
    return _note_page(appointment, existing)


@bp.route("/<appointment_id>/note", methods=["POST"])
@requires("clinical.write")
def save(appointment_id: str):
    appointment = _appointment_or_404(appointment_id)
    if not may_treat(appointment):
        abort(403)
    return _save(appointment, then_sign=False)


@bp.route("/<appointment_id>/note/sign", methods=["POST"])
@requires("clinical.write")
def sign(appointment_id: str):
    appointment = _appointment_or_404(appointment_id)
    if not may_treat(appointment):
        abort(403)
    if "subjective" in request.form:  # "Save and sign" from the form: what is typed counts
        return _save(appointment, then_sign=True)
    existing = notes.note_for(appointment.id, for_update=True)
    if existing is None:
        flash("Write the note before signing it.", "warning")
        return redirect(_note_url(appointment))
    return _sign(appointment, existing)


@bp.route("/<appointment_id>/note/amend", methods=["POST"])
@requires("clinical.write")
def amend(appointment_id: str):
    appointment = _appointment_or_404(appointment_id)
    existing = notes.note_for(appointment.id)
    if existing is None:
        abort(404)
    form = AmendForm()
    try:
        notes.amend(existing, form.text.data, g.membership)
    except NoteError as problem:
        if not problem.fields:
            return flash_refusal(problem, _note_url(appointment), "warning")
        place_refusal(form, problem)
        return render_template(
            "notes/amend.html", appointment=appointment, note=existing, form=form
        ), 400
    flash("Amendment added below the signed note.", "success")
    return redirect(_note_url(appointment) + "#amendments")


def _save(appointment: Appointment, *, then_sign: bool):
    form = NoteForm()
    existing = notes.note_for(appointment.id)
    if existing is not None and existing.is_signed:
        return _locked_page(appointment, existing)
    kept = [row.form.technique.data for row in form.techniques]
    choices = notes.technique_choices(keep=_techniques_of(existing) if existing else [])
    form.prepare(choices, pad=False)
    try:
        if not form.validate():
            raise NoteError("Check the highlighted parts of the note.")
        content = notes.clean(form.raw(), {value for value, _ in choices})
        saved = notes.save_draft(appointment, content, g.membership, clinic=g.clinic)
    except NoteLocked:
        discard_changes()
        return _locked_page(appointment, existing)
    except NoteBlocked as problem:
        return flash_refusal(problem, _detail_url(appointment), "warning")
    except NoteError as problem:
        discard_changes()
        form.show_errors(problem.fields)
        form.prepare(notes.technique_choices(keep=kept), pad=True)
        return _edit_page(appointment, existing, form=form, error=str(problem), status_code=400)
    if then_sign:
        return _sign(appointment, saved)
    flash("Draft saved. Sign it when it is complete: a signed note is locked.", "success")
    return redirect(_note_url(appointment))


def _sign(appointment: Appointment, note: TreatmentNote):
    try:
        notes.sign(appointment, note, g.membership, clinic=g.clinic)
    except NoteLocked:
        discard_changes()
        return _locked_page(appointment, note)
    except NoteBlocked as problem:
        return flash_refusal(problem, _detail_url(appointment), "warning")
    except NoteError as problem:
        # Nothing signed; a draft saved by the same request is kept.
        flash(str(problem), "warning")
        return redirect(_note_url(appointment))
    flash("Note signed. It is now locked: corrections are added as amendments.", "success")
    return redirect(_note_url(appointment))


def _techniques_of(note: TreatmentNote) -> list[str]:
    return [t.get("technique") for t in (note.content or {}).get("techniques") or []]


def _locked_page(appointment: Appointment, note: TreatmentNote | None):
    return render_template("notes/locked.html", appointment=appointment, note=note), 409


def _edit_page(
    appointment: Appointment,
    existing: TreatmentNote | None,
    *,
    form: NoteForm | None = None,
    error: str | None = None,
    status_code: int = 200,
):
    if form is None:
        content = notes.read(existing) if existing is not None else {}
        form = NoteForm(formdata=None, data=form_data(content))
        used = [t.get("technique") for t in content.get("techniques") or []]
        form.prepare(notes.technique_choices(keep=used), pad=True)
    # The flags beside the form on a page that is kept; an error page shows only the badges.
    red_flags = flags.load([appointment], clinic=g.clinic, decrypt=status_code < 400)
    return render_template(
        "notes/edit.html",
        appointment=appointment,
        note=existing,
        form=form,
        ticked=form.selected_regions(),
        error=error,
        signing_blocked=notes.signing_blocked(appointment, g.clinic),
        red_flags=red_flags,
    ), status_code


def _note_page(appointment: Appointment, note: TreatmentNote | None, notice: str | None = None):
    content = notes.read(note) if note is not None else {}
    names = notes.member_names([note.author_id, note.signed_by_id]) if note is not None else {}
    return render_template(
        "notes/note.html",
        appointment=appointment,
        note=note,
        content=content,
        amendments=notes.amendments_of(note) if note is not None and note.is_signed else [],
        author=names.get(note.author_id) if note is not None else None,
        signer=names.get(note.signed_by_id) if note is not None else None,
        amend_form=AmendForm(formdata=None) if can("clinical.write") else None,
        notice=notice,
        views=_regions_by_view(content),
    )


def _regions_by_view(content: dict) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {view: [] for view in notes.VIEWS}
    for entry in content.get("regions") or []:
        grouped.setdefault(entry.get("view"), []).append(notes.region_label(entry))
    return grouped


# The client's page: treatment history ------------------------------------------------------------


@dataclass
class TreatmentHistory:
    clinical: bool
    rows: list = field(default_factory=list)
    with_notes: int = 0


def treatment_history(client) -> TreatmentHistory:
    """The client's sessions and notes for clinical roles (audited); for the desk, a count."""
    if can("clinical.read"):
        rows = notes.history(client.id)
        return TreatmentHistory(True, rows, sum(1 for r in rows if r.note_id is not None))
    return TreatmentHistory(False, [], notes.notes_count(client.id))
