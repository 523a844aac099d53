"""How a page shows a refusal: the request's writes are dropped, the message goes where it belongs.

Every view that catches a Refusal goes through one of these, so that a refused request never
stores half of what it did (unit_of_work.discard_changes), whatever status the page answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import abort, flash, redirect
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from ..refusals import Refusal
from ..unit_of_work import discard_changes
from .forms import OneClickForm


def place_refusal(
    form: FlaskForm,
    refusal: Refusal,
    field_map: Mapping[str, str] | None = None,
    *,
    otherwise: str | None = None,
) -> None:
    """Drop the request's writes; show the refusal beside its field(s), else above the form.

    `field_map` renames the domain's field names to this form's; `otherwise` names the field
    that shows a message of no field of this form, for a form that shows no form-level errors.
    """
    discard_changes()
    messages = refusal.fields or {refusal.field or "": str(refusal)}
    for name, message in messages.items():
        _place(form, (field_map or {}).get(name, name), message, otherwise)


def _place(form: FlaskForm, name: str, message: str, otherwise: str | None) -> None:
    target = name if name and name in form else otherwise
    if target is None:
        form.form_errors.append(message)
    else:
        form[target].errors = [*form[target].errors, message]


def flash_refusal(refusal: Refusal, back: str, category: str = "danger") -> Response:
    """Drop the request's writes, say why as a flash message, and go `back`."""
    discard_changes()
    flash(str(refusal), category)
    return redirect(back)


def one_click(
    change: Callable[[], str | None],
    back: str,
    *,
    form: FlaskForm | None = None,
    refused: str = "danger",
) -> Response:
    """A one-click POST button: run `change` and flash the message it returns, then go `back`.

    A refusal drops whatever the change wrote and is flashed instead (as `refused`); a form that
    does not validate is a 400. `change` returns None when it flashed its own news.
    """
    if not (form if form is not None else OneClickForm()).validate_on_submit():
        abort(400)
    try:
        done = change()
    except Refusal as refusal:
        return flash_refusal(refusal, back, refused)
    if done:
        flash(done, "success")
    return redirect(back)
