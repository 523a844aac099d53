"""Accepting an emailed invitation to join a clinic's staff."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, logout_user
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ... import tenancy
from ...accounts import members, signup
from ...accounts.errors import AccountError
from ...accounts.sessions import start_session
from ...permissions import public
from ..auth.forms import PASSWORD_HELP, NewPasswordMixin
from ..forms import BaseForm, strip
from ..refusal_views import flash_refusal

bp = Blueprint("invitations", __name__)


class NewAccountForm(NewPasswordMixin, BaseForm):
    name = StringField("Your name", validators=[Length(min=2, max=120)], filters=[strip])
    password = PasswordField(
        "Choose a password", validators=[DataRequired()], description=PASSWORD_HELP
    )


class AcceptForm(BaseForm):
    pass


@bp.route("/invite/<token>", methods=["GET", "POST"])
@public
def accept(token: str):
    invitation = members.find_invitation(token)
    problem = members.invitation_problem(invitation)
    if problem:
        return render_template("invitations/problem.html", message=problem), 400
    clinic = invitation.clinic
    tenancy.bind(clinic)
    existing = signup.find_user_by_email(invitation.email)
    signed_in_as_other = current_user.is_authenticated and current_user.email != invitation.email

    if existing is None:
        form = NewAccountForm()
        form.account_email = invitation.email
        if not signed_in_as_other and form.validate_on_submit():
            user = signup.create_user(
                email=invitation.email, name=form.name.data, password=form.password.data
            )
            return _join(invitation, user)
    else:
        form = AcceptForm()
        signed_in_as_invitee = current_user.is_authenticated and current_user.id == existing.id
        if signed_in_as_invitee and form.validate_on_submit():
            return _join(invitation, existing)
    return render_template(
        "invitations/accept.html",
        invitation=invitation,
        clinic=clinic,
        form=form,
        has_account=existing is not None,
        signed_in_as_other=signed_in_as_other,
        signed_in_as_invitee=existing is not None
        and current_user.is_authenticated
        and current_user.id == existing.id,
        token=token,
    ), 400 if form.errors else 200


def _join(invitation, user):
    try:
        members.accept(invitation, user)
    except AccountError as error:
        return flash_refusal(error, url_for("main.index"))
    if not (current_user.is_authenticated and current_user.id == user.id):
        start_session(user)
    clinic = invitation.clinic
    flash(f"Welcome to {clinic.name}! You joined as {invitation.role.label.lower()}.", "success")
    return redirect(url_for("dashboard.home", clinic_slug=clinic.slug))


@bp.route("/invite/<token>/switch-account", methods=["POST"])
@public
def switch_account(token: str):
    """Log out a different account so the invitee can accept in this browser."""
    logout_user()
    return redirect(url_for("invitations.accept", token=token))
