"""Intake for one client: sending the link, opening it at the desk, and reading a signed intake."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from flask import Blueprint, flash, g, redirect, render_template, url_for
from sqlalchemy import select

from ... import tenancy
from ...clients.family import contact_for
from ...clinical import audit, intake, intake_links
from ...clinical.contraindications import BY_CODE, describe, highest_level
from ...clinical.intake_links import IntakeSendError
from ...clinical.status import IntakeSummary, flags_of, summary
from ...extensions import db
from ...models import Client, IntakeLink, IntakeResponse, IntakeTemplate
from ...models.base import utcnow
from ...permissions import can, requires

bp = Blueprint("intake", __name__, url_prefix="/c/<clinic_slug>")

PAST_INTAKES_SHOWN = 20


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
    return redirect(url_for("intake_public.fill", token=token))


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
