"""Development only: browse the mail the app would have sent. Never registered in production."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from ...mail import read_outbox
from ...permissions import public

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.route("/outbox")
@public
def outbox():
    return render_template("dev/outbox.html", messages=list(reversed(read_outbox())))


@bp.route("/outbox/<name>")
@public
def message(name: str):
    found = next((m for m in read_outbox() if m.name == name), None)
    if found is None:
        abort(404)
    return render_template("dev/message.html", message=found)
