"""The clinic's team: members and their roles, invitations, deactivation."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from sqlalchemy import select

from ...accounts import members
from ...accounts.errors import AccountError
from ...extensions import db
from ...models import Invitation, Membership, Role, User
from ...models.base import utcnow
from ...permissions import requires
from ...tenancy import get_or_404
from ..forms import OneClickForm, SwitchForm
from ..refusal_views import flash_refusal, one_click, place_refusal
from .forms import InviteForm, RoleForm

bp = Blueprint("staff", __name__, url_prefix="/c/<clinic_slug>/staff")


def _render_index(invite_form: InviteForm | None = None, status: int = 200):
    team = db.session.scalars(
        select(Membership).join(Membership.user).order_by(Membership.active.desc(), User.name)
    ).all()
    pending = db.session.scalars(
        select(Invitation)
        .where(
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .order_by(Invitation.created_at.desc())
    ).all()
    return render_template(
        "staff/index.html",
        team=team,
        pending=pending,
        invite_form=invite_form or InviteForm(),
        role_form_for=lambda m: RoleForm(role=m.role.value, prefix=f"m{m.id.hex}"),
        plain_form=OneClickForm(),
        roles=list(Role),
    ), status


@bp.route("/")
@requires("staff.view")
def index():
    return _render_index()


@bp.route("/invite", methods=["POST"])
@requires("staff.manage")
def invite():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            members.invite(g.clinic, g.membership, form.email.data, Role(form.role.data))
        except AccountError as error:
            place_refusal(form, error, otherwise="email")
        else:
            flash(f"Invitation sent to {form.email.data}.", "success")
            return redirect(url_for("staff.index"))
    return _render_index(form, status=400)


@bp.route("/<member_id>/role", methods=["POST"])
@requires("staff.manage")
def change_role(member_id: str):
    member = get_or_404(Membership, member_id)
    form = RoleForm(prefix=f"m{member.id.hex}")
    if not form.validate_on_submit():
        flash("Choose one of the listed roles.", "danger")
        return redirect(url_for("staff.index"))
    try:
        members.change_role(member, Role(form.role.data), g.membership)
    except AccountError as error:
        return flash_refusal(error, url_for("staff.index"))
    flash(f"{member.user.name} is now {member.role.label.lower()}.", "success")
    return redirect(url_for("staff.index"))


@bp.route("/<member_id>/active", methods=["POST"])
@requires("staff.manage")
def set_active(member_id: str):
    member = get_or_404(Membership, member_id)
    form = SwitchForm()

    def switch() -> str:
        members.set_active(member, form.on, g.membership)
        state = "reactivated" if form.on else "deactivated and logged out everywhere"
        return f"{member.user.name} was {state}."

    return one_click(switch, url_for("staff.index"), form=form)


@bp.route("/invitations/<invitation_id>/revoke", methods=["POST"])
@requires("staff.manage")
def revoke_invitation(invitation_id: str):
    invitation = get_or_404(Invitation, invitation_id)

    def revoke() -> str | None:
        if members.revoke_invitation(invitation):
            return f"The invitation to {invitation.email} was withdrawn."
        return None

    return one_click(revoke, url_for("staff.index"))


@bp.route("/invitations/<invitation_id>/resend", methods=["POST"])
@requires("staff.manage")
def resend_invitation(invitation_id: str):
    invitation = get_or_404(Invitation, invitation_id)

    def resend() -> str:
        members.invite(g.clinic, g.membership, invitation.email, invitation.role)
        return f"A new invitation was sent to {invitation.email}."

    return one_click(resend, url_for("staff.index"))
