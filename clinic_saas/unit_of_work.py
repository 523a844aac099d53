"""One transaction per request: it commits once at its end, or rolls back, and only then mails.

Views never commit or roll back themselves. A view that shows a domain error (a clash, a refused
refund) calls discard_changes(): whatever the request wrote is dropped and its mail is not sent,
even when the answer is a redirect with a flash message rather than an error status.
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
