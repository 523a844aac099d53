"""Intake for one client: sending the link, opening it at the desk, and reading a signed intake."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from ... import tenancy
from ...accounts.sessions import renew_session, unlock_with_password
from ...clients.family import contact_for
from ...clinical import audit, intake, intake_links
from ...clinical.contraindications import BY_CODE, describe, highest_level
from ...clinical.intake_links import IntakeSendError
from ...clinical.status import IntakeSummary, flags_of, summary
from ...extensions import db, limiter
from ...models import Client, IntakeLink, IntakeResponse, IntakeTemplate
from ...models.base import utcnow
from ...permissions import can, requires

bp = Blueprint("intake", __name__, url_prefix="/c/<clinic_slug>")

PAST_INTAKES_SHOWN = 20

# Desk mode: once the intake form is opened at the desk, this browser is a kiosk for the client.
# The flag lives in the signed session (renewed on entering, so an earlier copy of the cookie is
# dead): every page but the intake form redirects to the unlock page, which asks the staff
# member's own password.
KIOSK = "kiosk"
KIOSK_OPEN = ("static", "intake_public.fill", "intake.unlock")
UNLOCK_REFUSED = "That is not the password of the staff member signed in on this device."


def _unlock_limit():
    return current_app.config["FORM_LIMIT_PER_ADDRESS"]


@bp.before_app_request
def _kiosk_lock():
    kiosk = session.get(KIOSK)
    if not kiosk or request.endpoint is None or request.endpoint in KIOSK_OPEN:
        return None
    if not current_user.is_authenticated:
        session.pop(KIOSK)  # the staff session is over: logging in again needs a password anyway
        return None
    return redirect(url_for("intake.unlock", clinic_slug=kiosk["clinic"]))


def _back(client: Client):
    return redirect(url_for("clients.show", client_id=client.id))


@bp.route("/clients/<client_id>/intake/send", methods=["POST"])
@requires("intake.send")
def send(client_id):
    """Email a new one-time link to the client, or to the parent of a child without email."""
    client = tenancy.get_or_404(Client, client_id)
    try:
        link = intake_links.send_intake_link(
            clinic=g.clinic, client=client, sent_by=g.membership, contact=contact_for(client)
        )
    except IntakeSendError as problem:
        flash(str(problem), "danger")
        return _back(client)
    flash(f"Intake link emailed to {link.sent_to}.", "success")
    return _back(client)


@bp.route("/clients/<client_id>/intake/desk", methods=["POST"])
@requires("intake.send")
def desk(client_id):
    """Open the form on this device, for the client to fill in at the desk."""
    client = tenancy.get_or_404(Client, client_id)
    try:
        token = intake_links.open_at_desk(client=client, opened_by=g.membership)
    except IntakeSendError as problem:
        flash(str(problem), "danger")
        return _back(client)
    renew_session(current_user)
    session[KIOSK] = {"clinic": g.clinic.slug, "client": str(client.id), "token": token}
    return redirect(url_for("intake_public.fill", token=token))


@bp.route("/unlock", methods=["GET", "POST"])
@requires("intake.send")
@limiter.limit(_unlock_limit, methods=["POST"])
def unlock():
    """Hand the device back to staff: the signed-in staff member's password ends kiosk mode."""
    kiosk = session.get(KIOSK)
    if not kiosk:
        return redirect(url_for("dashboard.home"))
    error = None
    if request.method == "POST":
        if unlock_with_password(current_user, request.form.get("password", "")):
            session.pop(KIOSK)
            renew_session(current_user)
            return redirect(url_for("clients.show", client_id=kiosk["client"]))
        error = UNLOCK_REFUSED
    return (
        render_template("intake/unlock.html", error=error, token=kiosk["token"]),
        400 if error else 200,
    )


@bp.route("/intakes/<response_id>")
@requires("clinical.read")
def response(response_id):
    """One signed intake, read against the version of the form it answered."""
    signed = tenancy.get_or_404(IntakeResponse, response_id)
    template = tenancy.get_or_404(IntakeTemplate, signed.template_id)
    client = tenancy.get_or_404(Client, signed.client_id)
    audit.record(
        "intake.view",
        client_id=client.id,
        subject_type="intake_response",
        subject_id=signed.id,
    )
    return render_template(
        "intake/response.html",
        response=signed,
        template=template,
        client=client,
        sections=intake.sections(template.questions),
        answers=intake.prefill(template.questions, signed.answers),
        flags=[describe(f) for f in signed.flags or []],
        level=highest_level(signed.flags or []),
        conditions=BY_CODE,
    )


# The intake panel of a client's page ------------------------------------------------------------


@dataclass
class PastIntake:
    id: uuid.UUID
    signed_at: datetime
    version: int
    has_flags: bool
    submitted_via: str
    signed_by_guardian: bool


@dataclass
class IntakePanel:
    summary: IntakeSummary
    open_link: IntakeLink | None
    can_read: bool
    flags: list[str] = field(default_factory=list)
    level: str | None = None
    past: list[PastIntake] = field(default_factory=list)


def intake_panel(client: Client) -> IntakePanel:
    """What the intake panel of a client's page shows; the flags only to clinical roles, and
    their reading is audited. A constant number of queries, whatever the client's history."""
    state = summary(client.id, clinic=g.clinic)
    now = utcnow()
    open_link = db.session.scalars(
        select(IntakeLink)
        .where(
            IntakeLink.client_id == client.id,
            IntakeLink.used_at.is_(None),
            IntakeLink.expires_at > now,
        )
        .order_by(IntakeLink.created_at.desc())
        .limit(1)
    ).first()
    panel = IntakePanel(state, open_link, can_read=can("clinical.read"))
    if not panel.can_read or state.response_id is None:
        return panel
    flags = flags_of([state.response_id]).get(state.response_id, [])
    audit.record(
        "flags.view",
        client_id=client.id,
        subject_type="intake_response",
        subject_id=state.response_id,
    )
    panel.flags = [describe(f) for f in flags]
    level = highest_level(flags)
    panel.level = level.value if level else None
    rows = db.session.execute(
        select(
            IntakeResponse.id,
            IntakeResponse.signed_at,
            IntakeTemplate.version,
            IntakeResponse.has_flags,
            IntakeResponse.submitted_via,
            IntakeResponse.signed_by_guardian,
        )
        .join(IntakeTemplate, IntakeTemplate.id == IntakeResponse.template_id)
        .where(IntakeResponse.client_id == client.id)
        .order_by(IntakeResponse.signed_at.desc(), IntakeResponse.id.desc())
        .limit(PAST_INTAKES_SHOWN)
    )
    panel.past = [PastIntake(*row) for row in rows]
    return panel
