"""Forms of a client's record on request: confirming an erasure."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import InputRequired, Length

from ..forms import BaseForm, strip


class EraseForm(BaseForm):
    """The client's name typed out, so that nobody erases a record with one stray click."""

    confirm_name = StringField(
        "Type the client's full name to confirm",
        validators=[InputRequired("Type the client's full name."), Length(max=200)],
        filters=[strip],
    )


def same_name(typed: str | None, name: str) -> bool:
    """The typed name matches, ignoring case and spacing."""
    return " ".join((typed or "").split()).casefold() == " ".join(name.split()).casefold()
