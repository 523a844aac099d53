"""One transaction per request: committed once at the end, or dropped with its mail."""

from __future__ import annotations

from flask import redirect
from sqlalchemy import select

from clinic_saas import mail
from clinic_saas.extensions import db
from clinic_saas.models import User
from clinic_saas.permissions import public
from clinic_saas.unit_of_work import commit_intent, discard_changes


def _app_with_writer(make_app):
    app = make_app()

    @app.route("/write/<outcome>")
    @public
    def write(outcome: str):
        db.session.add(User(email=f"{outcome}@example.com", name=outcome))
        db.session.flush()
        mail.send(f"{outcome}@example.com", "Hello", "confirm_email", user=None, confirm_url="x")
        if outcome == "discarded":
            discard_changes()
            return redirect("/")
        if outcome == "failed":
            return "refused", 409
        return redirect("/")

    return app


def _stored(app, email: str) -> bool:
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email)) is not None


def test_a_successful_request_commits_and_then_mails(make_app, outbox):
    app = _app_with_writer(make_app)
    assert app.test_client().get("/write/kept").status_code == 302
    assert _stored(app, "kept@example.com")
    assert [m.to for m in outbox()] == ["kept@example.com"]


def test_an_error_status_rolls_back_and_sends_nothing(make_app, outbox):
    app = _app_with_writer(make_app)
    assert app.test_client().get("/write/failed").status_code == 409
    assert not _stored(app, "failed@example.com")
    assert outbox() == []


def test_discarded_changes_stay_discarded_behind_a_redirect(make_app, outbox):
    app = _app_with_writer(make_app)
    assert app.test_client().get("/write/discarded").status_code == 302
    assert not _stored(app, "discarded@example.com")
    assert outbox() == []


def _app_with_intent(make_app):
    app = make_app()

    @app.route("/intent/<outcome>")
    @public
    def intent(outcome: str):
        db.session.add(User(email="intent@example.com", name="Intent"))
        mail.send("intent@example.com", "Hello", "confirm_email", user=None, confirm_url="x")
        commit_intent()
        db.session.add(User(email="result@example.com", name="Result"))
        db.session.flush()
        if outcome == "crashed":
            raise RuntimeError("the outside call failed after the intent was committed")
        if outcome == "discarded":
            discard_changes()
            commit_intent()
        return redirect("/")

    return app


def test_an_intent_survives_a_failure_after_it_and_nothing_else_does(make_app, outbox):
    app = _app_with_intent(make_app)
    assert app.test_client().get("/intent/crashed").status_code == 500
    assert _stored(app, "intent@example.com")
    assert not _stored(app, "result@example.com")
    assert outbox() == []  # the mail belonged to the whole request, which failed


def test_an_intent_and_its_result_commit_and_mail_once_when_all_goes_well(make_app, outbox):
    app = _app_with_intent(make_app)
    assert app.test_client().get("/intent/kept").status_code == 302
    assert _stored(app, "intent@example.com") and _stored(app, "result@example.com")
    assert [m.to for m in outbox()] == ["intent@example.com"]


def test_discarded_changes_cannot_be_committed_as_an_intent(make_app, outbox):
    app = _app_with_intent(make_app)
    assert app.test_client().get("/intent/discarded").status_code == 500
    assert _stored(app, "intent@example.com")
    assert not _stored(app, "result@example.com")
