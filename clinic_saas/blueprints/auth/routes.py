"""Signup, email confirmation, login, logout and password reset.

None of these pages tells a stranger whether an email address has an account.
"""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from ...accounts import sessions, signup, tokens
from ...accounts.errors import AccountError
from ...accounts.passwords import verify_password
from ...extensions import db, limiter, submitted_email_key
from ...models import User
from ...permissions import public
from ..redirects import local_path
from ..refusal_views import place_refusal
from .forms import ForgotPasswordForm, LoginForm, ResetPasswordForm, SignupForm

bp = Blueprint("auth", __name__)

GENERIC_LOGIN_ERROR = "That email and password do not match an account."


def _login_limit_per_account():
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


def _login_limit_per_address():
    return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]


def _form_limit():
    return current_app.config["FORM_LIMIT_PER_ADDRESS"]


def _failed_login(response) -> bool:
    """Only failed attempts count against the login limits; a redirect is a success."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(
    _login_limit_per_account,
    key_func=submitted_email_key,
    methods=["POST"],
    deduct_when=_failed_login,
)
@limiter.limit(_login_limit_per_address, methods=["POST"], deduct_when=_failed_login)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("clinics.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = signup.find_user_by_email(form.email.data)
        ok = verify_password(user.password_hash if user else None, form.password.data)
        if not ok or user is None or not user.active:
            form.password.errors.append(GENERIC_LOGIN_ERROR)
            return render_template("auth/login.html", form=form), 401
        if user.email_confirmed_at is None:
            signup.send_confirmation(user)
            flash(
                "Please confirm your email address first: we have sent you a new link.", "warning"
            )
            return render_template("auth/login.html", form=form)
        next_url = local_path(request.args.get("next"))
        sessions.log_in(user, form.password.data)
        return redirect(next_url or url_for("clinics.index"))
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.route("/logout", methods=["POST"])
@public
def logout():
    sessions.end_session()
    flash("You have logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/signup", methods=["GET", "POST"])
@public
@limiter.limit(_form_limit, methods=["POST"])
def signup_page():
    if current_user.is_authenticated:
        return redirect(url_for("clinics.new"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            signup.register(
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                clinic=form.clinic_values(),
            )
        except AccountError as error:
            place_refusal(form, error, otherwise="slug")
        else:
            return redirect(url_for("auth.check_inbox", email=form.email.data))
    return render_template("auth/signup.html", form=form), 400 if form.errors else 200


@bp.route("/signup/check-inbox")
@public
def check_inbox():
    return render_template("auth/check_inbox.html", email=request.args.get("email", ""))


def _user_from_token(token: str, purpose: str, max_age) -> User:
    user_id, fingerprint = tokens.read_user_token(token, purpose, max_age)
    try:
        user = db.session.get(User, uuid.UUID(user_id))
    except ValueError:
        user = None
    if not tokens.token_matches(user, fingerprint):
        raise tokens.InvalidToken("This link has already been used or is no longer valid.")
    return user


@bp.route("/signup/confirm/<token>")
@public
def confirm_email(token: str):
    try:
        user = _user_from_token(
            token, tokens.CONFIRM_EMAIL, current_app.config["EMAIL_CONFIRM_MAX_AGE"]
        )
    except tokens.InvalidToken as error:
        return render_template("auth/link_problem.html", message=str(error)), 400
    if not signup.confirm_signup(user):
        sessions.start_session(user)
        flash(
            "Your email address is confirmed, but another clinic took the address you chose. "
            "Choose another one for your clinic.",
            "warning",
        )
        return redirect(url_for("clinics.new"))
    sessions.start_session(user)
    flash("Your email address is confirmed. Welcome to clinic_saas!", "success")
    return redirect(url_for("clinics.index"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@limiter.limit(_form_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = signup.find_user_by_email(form.email.data)
        if user is not None and user.active:
            sessions.send_password_reset(user)
        return render_template("auth/check_inbox.html", email=form.email.data, reset=True)
    return render_template("auth/forgot_password.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    try:
        user = _user_from_token(
            token, tokens.RESET_PASSWORD, current_app.config["PASSWORD_RESET_MAX_AGE"]
        )
    except tokens.InvalidToken as error:
        return render_template("auth/link_problem.html", message=str(error), reset=True), 400
    form = ResetPasswordForm()
    form.account_email = user.email
    if form.validate_on_submit():
        sessions.reset_password(user, form.password.data)
        flash("Your password has been changed.", "success")
        return redirect(url_for("clinics.index"))
    return render_template("auth/reset_password.html", form=form), 400 if form.errors else 200
