"""Settings, card payments: the owner connects the clinic's own Stripe account and sees whether
it can take charges."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for

from ...mail import public_url
from ...payments import connect
from ...payments.errors import GatewayError
from ...permissions import requires
from ...unit_of_work import discard_changes
from ..forms import OneClickForm
from ..refusal_views import flash_refusal

bp = Blueprint("stripe_connect", __name__, url_prefix="/c/<clinic_slug>/settings/card-payments")


@bp.route("")
@requires("clinic.settings")
def status():
    return render_template(
        "stripe_connect/status.html",
        connect_mode=connect.connect_mode(),
        can_take_cards=connect.can_take_cards(g.clinic),
        form=OneClickForm(),
    )


@bp.route("/connect", methods=["POST"])
@requires("clinic.settings")
def start():
    if not OneClickForm().validate_on_submit():
        abort(400)
    if not connect.connect_mode():
        flash(
            "Card payments run on the platform's Stripe account here: nothing to connect.", "info"
        )
        return redirect(url_for(".status"))
    try:
        link = connect.onboarding_link(
            g.clinic,
            refresh_url=public_url("stripe_connect.restart", clinic_slug=g.clinic.slug),
            return_url=public_url("stripe_connect.returned", clinic_slug=g.clinic.slug),
        )
    except GatewayError as refusal:
        return flash_refusal(refusal, url_for(".status"))
    return redirect(link)


@bp.route("/restart")
@requires("clinic.settings")
def restart():
    """Stripe sends the owner here when a link expired: offer the button again."""
    flash("That Stripe link expired: continue connecting below.", "info")
    return redirect(url_for(".status"))


@bp.route("/return")
@requires("clinic.settings")
def returned():
    """Back from Stripe's forms: read the account's status."""
    try:
        ready = connect.refresh_status(g.clinic)
    except GatewayError as refusal:
        discard_changes()
        return flash_refusal(refusal, url_for(".status"))
    if ready:
        flash("Your Stripe account is connected: card payments go to it.", "success")
    else:
        flash("Stripe still needs some details before your account can take payments.", "warning")
    return redirect(url_for(".status"))
