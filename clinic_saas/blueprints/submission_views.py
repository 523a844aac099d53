"""How a page records something once: the form's one-time key is claimed before the write, and a
repeat (a double click, a resent request, ten at once) shows what the first one recorded.

A view that records calls repeat_of(form, kind) before writing anything: None means the key is
now claimed by this request, which records and then calls settle(form, id of what it created);
otherwise the first submission is returned and the view redirects to what it created with
already_recorded(), writing nothing.
"""

from __future__ import annotations

import uuid

from flask import flash, redirect
from werkzeug.wrappers import Response

from .. import submissions
from ..models import FormSubmission
from ..refusals import Conflict, Refusal
from ..unit_of_work import discard_changes
from .forms import SubmissionForm

RELOAD = "Reload the page and try again."


def repeat_of(form: SubmissionForm, kind: str) -> FormSubmission | None:
    """The first submission of this form when this is a repeat, else None with the key claimed.

    A form sent without its key, or with a key that recorded something else, is refused (4xx).
    """
    key = form.posted_key
    if key is None:
        raise Refusal(f"This form was sent without its one-time key. {RELOAD}")
    found = submissions.first(key)
    if found is None:
        try:
            form.submission_claim = submissions.claim(key, kind)
        except submissions.KeyTaken:
            # Sent again while the first was being recorded: it waited for it, and now sees it.
            discard_changes()
            found = submissions.first(key)
        else:
            return None
    if found is None or found.kind != kind or found.object_id is None:
        raise Conflict(f"This form was already used for something else. {RELOAD}")
    return found


def settle(form: SubmissionForm, object_id: uuid.UUID) -> None:
    """Name what this request recorded under the key it claimed with repeat_of()."""
    submissions.settle(form.submission_claim, object_id)


def already_recorded(message: str, url: str) -> Response:
    """Show the first result of a repeated form: where it went, with an "already recorded" note."""
    flash(f"Already recorded: {message} Nothing was recorded twice.", "info")
    return redirect(url)
