"""The clinic's intake form: its versions, and publishing a new one.

A published version is never edited: saving the editor publishes the next version, and every
signed intake keeps pointing at the version it answered.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ... import tenancy, unit_of_work
from ...clinical import intake, templates
from ...extensions import db
from ...models import IntakeResponse, IntakeTemplate, Membership, User
from ...permissions import requires
from .forms import build_questions, editor_for, read_editor

STALE = (
    "Someone published a new version of the form while you were editing: this is the newest "
    "one. Make your changes again."
)

bp = Blueprint("intake_forms", __name__, url_prefix="/c/<clinic_slug>/settings/intake-form")


def _preview_context(template: IntakeTemplate) -> dict:
    return {
        "template": template,
        "sections": intake.sections(template.questions),
        "answers": intake.prefill(template.questions, None),
    }


@bp.route("")
@requires("intake.templates")
def index():
    """The version clients fill in now, and every earlier one with its number of answers."""
    current = templates.current_template()
    versions = db.session.execute(
        select(IntakeTemplate, User.name)
        .outerjoin(Membership, Membership.id == IntakeTemplate.created_by_id)
        .outerjoin(User, User.id == Membership.user_id)
        .order_by(IntakeTemplate.version.desc())
    ).all()
    counts = dict(
        db.session.execute(
            select(IntakeResponse.template_id, func.count()).group_by(IntakeResponse.template_id)
        ).all()
    )
    return render_template(
        "intake_forms/index.html",
        versions=versions,
        counts=counts,
        **_preview_context(current),
    )


@bp.route("/edit", methods=["GET", "POST"])
@requires("intake.templates")
def edit():
    """Edit the current version into the next one; publishing takes effect at once."""
    current = templates.current_template()
    if request.method == "GET":
        editor = editor_for(current)
        return _edit_page(current, editor, 200)
    if request.form.get("version") != str(current.version):
        editor = editor_for(current)
        editor.errors[templates.TEMPLATE_ERROR] = STALE
        return _edit_page(current, editor, 409)
    editor = read_editor(current, request.form)
    questions = build_questions(editor, current.questions)
    if questions is None:
        return _edit_page(current, editor, 400)
    unchanged = (
        questions == current.questions
        and editor.title == current.title
        and editor.consent_text == current.consent_text
    )
    if unchanged:
        flash(f"Nothing changed: version {current.version} stays in use.", "info")
        return redirect(url_for("intake_forms.index"))
    try:
        published = templates.publish(editor.title, questions, editor.consent_text)
    except IntegrityError:  # another owner published the same version number a moment ago
        unit_of_work.discard_changes()
        flash(STALE, "warning")
        return redirect(url_for("intake_forms.edit"))
    flash(
        f"Version {published.version} published: every form opened from now on uses it. "
        "Intakes already signed keep the version they answered.",
        "success",
    )
    return redirect(url_for("intake_forms.index"))


def _edit_page(current: IntakeTemplate, editor, status: int):
    return render_template(
        "intake_forms/edit.html",
        current=current,
        editor=editor,
        kinds=templates.KIND_LABELS,
        custom_kinds=templates.CUSTOM_KINDS,
        template_error=editor.errors.get(templates.TEMPLATE_ERROR),
    ), status


@bp.route("/<template_id>")
@requires("intake.templates")
def show(template_id):
    """A read-only preview of one version, as clients saw it."""
    template = tenancy.get_or_404(IntakeTemplate, template_id)
    current = templates.current_template()
    answered = db.session.scalar(
        select(func.count())
        .select_from(IntakeResponse)
        .where(IntakeResponse.template_id == template.id)
    )
    return render_template(
        "intake_forms/show.html",
        is_current=template.id == current.id,
        answered=answered,
        **_preview_context(template),
    )
