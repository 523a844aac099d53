"""Outgoing mail: the HTML part is optional, but a broken one is an error, not a silent drop."""

from __future__ import annotations

import pytest
from jinja2 import ChoiceLoader, DictLoader, TemplateNotFound, UndefinedError

from clinic_saas import mail


@pytest.fixture
def email_templates(app):
    """Extra email templates for one test, in front of the application's own."""
    original = app.jinja_env.loader
    extra = DictLoader(
        {
            "email/plain_only.txt": "Hello {{ name }}",
            "email/broken.txt": "Hello {{ name }}",
            "email/broken.html": "<p>{{ name.missing_method() }}</p>",
            "email/half.txt": "Hello {{ name }}",
            "email/half.html": "{% include 'email/nowhere.html' %}",
        }
    )
    app.jinja_env.loader = ChoiceLoader([extra, original])
    app.jinja_env.cache.clear()
    try:
        yield
    finally:
        app.jinja_env.loader = original
        app.jinja_env.cache.clear()


def test_a_mail_without_an_html_template_is_sent_as_text(app, email_templates, outbox):
    with app.app_context():
        mail.send("ann@example.com", "Hi", "plain_only", name="Ann")
    [message] = outbox()
    assert (message.text.strip(), message.html) == ("Hello Ann", None)


def test_a_broken_html_template_is_an_error_and_nothing_is_sent(app, email_templates, outbox):
    with app.app_context(), pytest.raises(UndefinedError, match="missing_method"):
        mail.send("ann@example.com", "Hi", "broken", name="Ann")
    assert outbox() == []


def test_a_missing_include_in_an_html_template_is_an_error(app, email_templates, outbox):
    with app.app_context(), pytest.raises(TemplateNotFound, match="nowhere"):
        mail.send("ann@example.com", "Hi", "half", name="Ann")
    assert outbox() == []
