"""The logged-in person's own account, outside any clinic: their password and their sessions."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from ...accounts import sessions
from ...accounts.errors import AccountError
from ...permissions import account_required
from ..forms import OneClickForm
from ..refusal_views import place_refusal
from .forms import ChangePasswordForm

bp = Blueprint("account", __name__, url_prefix="/account")


def _user():
    """The User itself, not the proxy: starting a session keeps it for the rest of the request."""
    return current_user._get_current_object()


def _page(form: ChangePasswordForm):
    return render_template(
        "account/index.html", form=form, end_all=OneClickForm()
    ), 400 if form.errors else 200


@bp.route("/")
@account_required
def index():
    return _page(ChangePasswordForm())


@bp.route("/password", methods=["POST"])
@account_required
def change_password():
    form = ChangePasswordForm()
    form.account_email = current_user.email
    if form.validate_on_submit():
        try:
            sessions.change_password(_user(), form.current.data, form.password.data)
        except AccountError as error:
            place_refusal(form, error)
        else:
            flash("Your password has been changed; your other sessions have ended.", "success")
            return redirect(url_for("account.index"))
    return _page(form)


@bp.route("/log-out-everywhere", methods=["POST"])
@account_required
def log_out_everywhere():
    if OneClickForm().validate_on_submit():
        sessions.end_all_sessions(_user())
        sessions.end_session()
        flash("You have logged out on every device.", "info")
        return redirect(url_for("auth.login"))
    flash("This form had expired. Try again.", "warning")
    return redirect(url_for("account.index"))
