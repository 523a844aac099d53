"""Asking a client for their intake, as a domain call: the link, its one mail, its audit event."""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import select

from clinic_saas import tenancy
from clinic_saas.clients.family import contact_for
from clinic_saas.clinical.intake_links import IntakeSendError, open_at_desk, send_intake_link
from clinic_saas.extensions import db
from clinic_saas.models import AuditEvent, Client, Clinic, IntakeLink
from clinic_saas.models.base import utcnow

from .factories import build_schedule


@pytest.fixture
def schedule(app, clinic_a):
    return build_schedule(app, clinic_a)


def _in_request(app, schedule, fn):
    """Run fn(clinic, client) as a request of the clinic would, and roll its writes back."""
    with app.test_request_context("/"):
        clinic = db.session.get(Clinic, schedule.clinic_id)
        with tenancy.bound_to(clinic):
            try:
                return fn(clinic, tenancy.find(Client, schedule.client_id))
            finally:
                db.session.rollback()


def _written():
    """(link ids and channels, audit events, queued mail) of this request, as plain values."""
    links = [(row.id, row.channel) for row in db.session.scalars(select(IntakeLink))]
    events = [(e.action, e.subject_id, e.detail) for e in db.session.scalars(select(AuditEvent))]
    return links, events, list(g.get("pending_mail", []))


def test_send_intake_link_writes_the_link_queues_one_mail_and_one_audit_event(app, schedule):
    def send(clinic, client):
        link = send_intake_link(
            clinic=clinic, client=client, sent_by=None, contact=contact_for(client)
        )
        return link.id, link.channel, link.sent_to, _written()  # before the rollback

    link_id, channel, sent_to, (links, events, mail) = _in_request(app, schedule, send)
    assert (channel, sent_to) == ("email", "ada@example.com")
    assert links == [(link_id, "email")]
    assert events == [("intake.send", link_id, {"channel": "email"})]
    assert len(mail) == 1  # queued, delivered only after the request commits
    assert mail[0]["To"] == "ada@example.com"
    assert mail[0]["Subject"] == "Your health questionnaire for Northside Sports Massage"
    assert "/intake/" in mail[0].get_body(("plain",)).get_content()


def test_without_an_email_nothing_is_written_or_sent(app, schedule):
    def send(clinic, client):
        client.email = None
        with pytest.raises(IntakeSendError, match="has no email address"):
            send_intake_link(
                clinic=clinic, client=client, sent_by=None, contact=contact_for(client)
            )
        return _written()

    assert _in_request(app, schedule, send) == ([], [], [])


def test_an_erased_client_is_asked_nothing(app, schedule):
    def send(clinic, client):
        client.erased_at = utcnow()
        with pytest.raises(IntakeSendError, match="erased"):
            send_intake_link(clinic=clinic, client=client, sent_by=None, contact=("Ada", "a@b.c"))
        with pytest.raises(IntakeSendError, match="erased"):
            open_at_desk(client=client, opened_by=None)
        return _written()

    assert _in_request(app, schedule, send) == ([], [], [])


def test_opening_the_form_at_the_desk_audits_a_desk_link_and_sends_no_mail(app, schedule):
    def open_form(clinic, client):
        token = open_at_desk(client=client, opened_by=None)
        return token, _written()

    token, (links, events, mail) = _in_request(app, schedule, open_form)
    assert token
    ((link_id, channel),) = links
    assert channel == "desk"
    assert events == [("intake.send", link_id, {"channel": "desk"})]
    assert mail == []
