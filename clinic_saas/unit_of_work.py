"""One transaction per request: it commits once at its end, or rolls back, and only then mails.

Views never commit or roll back themselves. A view that shows a domain error (a clash, a refused
refund) calls discard_changes(): whatever the request wrote is dropped and its mail is not sent,
even when the answer is a redirect with a flash message rather than an error status.

The one sanctioned commit before the end is commit_intent(): before a call to the outside world that
cannot be rolled back (Stripe), the request commits what it decided (a payment attempt with its
idempotency key), makes the call, then records the result in the rest of the request. A failure
after that point drops only what came after, so a retry finds the intent and reuses its key.
"""

from __future__ import annotations

from flask import Flask, g

from . import mail
from .extensions import db


def discard_changes() -> None:
    """Drop this request's writes now (the page may still read), and keep them dropped."""
    db.session.rollback()
    mail.discard_pending()
    g.changes_discarded = True


def commit_intent() -> None:
    """Commit what this request has decided so far, before an outside call that cannot be undone.

    Mail stays queued until the request ends well: an intent is not yet news for anybody.
    """
    if g.get("changes_discarded"):
        raise RuntimeError("this request's changes were discarded: there is no intent to commit")
    db.session.commit()


def _finish(response):
    if response.status_code < 400 and not g.get("changes_discarded"):
        db.session.commit()
        mail.deliver_pending()
    else:
        db.session.rollback()
        mail.discard_pending()
    return response


def _forget_mail_on_error(exc) -> None:
    if exc is not None:
        mail.discard_pending()


def init_app(app: Flask) -> None:
    app.after_request(_finish)
    app.teardown_request(_forget_mail_on_error)
