"""Outgoing email: SMTP when configured, otherwise an outbox folder that developers and tests read.

Mail is queued during a request and delivered only after its transaction commits, so that nobody
receives an invitation or a link for something that was rolled back.
"""

from __future__ import annotations

import smtplib
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formataddr, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, g, has_request_context, render_template
from jinja2 import TemplateNotFound

from .refusals import Refusal

UNSENDABLE = (
    "This email could not be sent: its subject or address would hold a line break. Check the "
    "names it uses (the clinic's name is in Settings) and the address, then try again."
)


class UnsendableMail(Refusal):
    """A header that would carry a line break (a name saved with one): refused, never sent."""


def _one_line(value: str) -> bool:
    """No line break of any kind: what str.splitlines() splits on is what email refuses."""
    return "".join(value.splitlines()) == value


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/pdf"


@dataclass(frozen=True)
class OutboxMessage:
    name: str
    to: str
    subject: str
    text: str
    html: str | None
    sent_at: float
    sender: str = ""
    reply_to: str | None = None
    attachments: tuple[Attachment, ...] = ()


def public_url(endpoint: str, **values) -> str:
    """The absolute address of a page for an email: always on PUBLIC_BASE_URL, never on the
    request's Host header (which whoever sends the request chooses)."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    if not base.scheme or not base.netloc:
        raise RuntimeError("PUBLIC_BASE_URL must be set to build links for emails")
    current_app.inject_url_defaults(endpoint, values)
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def _sender(name: str | None) -> str:
    """MAIL_DEFAULT_SENDER, shown under `name` (a clinic's) when one is given."""
    default = current_app.config["MAIL_DEFAULT_SENDER"]
    if not name:
        return default
    return formataddr((name, parseaddr(default)[1]))


def send(
    to: str,
    subject: str,
    template: str,
    *,
    sender_name: str | None = None,
    reply_to: str | None = None,
    attachments: tuple[Attachment, ...] = (),
    **context,
) -> None:
    """Render templates/email/<template>.txt (and .html if present) and queue it for delivery.

    `sender_name` shows the mail as from that name (a clinic's) at the platform's own address,
    and `reply_to` sends answers to the clinic. A subject, name or address with a line break is
    refused (UnsendableMail) before anything is rendered: the request that wanted to send it
    ends with the message, and stores nothing.
    """
    headers = [to, subject, sender_name or "", reply_to or ""]
    headers += [attachment.filename for attachment in attachments]
    if not all(_one_line(value) for value in headers):
        raise UnsendableMail(UNSENDABLE)
    text = render_template(f"email/{template}.txt", **context)
    html_name = f"email/{template}.html"
    try:
        html = render_template(html_name, **context)
    except TemplateNotFound as missing:
        if missing.name != html_name:  # the HTML part is optional, not what it includes
            raise
        html = None
    message = EmailMessage()
    message["From"] = _sender(sender_name)
    message["To"] = to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="clinic-saas.example")
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    for attachment in attachments:
        maintype, _, subtype = attachment.mimetype.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    if has_request_context():
        g.setdefault("pending_mail", []).append(message)
    else:
        deliver(message)


def deliver_pending() -> None:
    """Deliver what this request queued; called once its transaction has committed."""
    for message in g.pop("pending_mail", []):
        try:
            deliver(message)
        except (OSError, smtplib.SMTPException):
            current_app.logger.exception("mail to %s could not be delivered", message["To"])


def discard_pending() -> None:
    g.pop("pending_mail", None)


def deliver(message: EmailMessage) -> None:
    config = current_app.config
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=15) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
        return
    outbox = Path(config["MAIL_OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns()}.eml"
    (outbox / name).write_bytes(message.as_bytes(policy=policy.SMTP))


def read_outbox(directory: str | Path | None = None) -> list[OutboxMessage]:
    """Messages captured in the outbox folder, oldest first."""
    outbox = Path(directory or current_app.config["MAIL_OUTBOX_DIR"])
    if not outbox.is_dir():
        return []
    messages = []
    for path in sorted(outbox.glob("*.eml")):
        parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        text_part = parsed.get_body(preferencelist=("plain",))
        html_part = parsed.get_body(preferencelist=("html",))
        attachments = tuple(
            Attachment(part.get_filename(), part.get_content(), part.get_content_type())
            for part in parsed.iter_attachments()
        )
        messages.append(
            OutboxMessage(
                name=path.stem,
                to=str(parsed["To"]),
                subject=str(parsed["Subject"]),
                text=text_part.get_content() if text_part else "",
                html=html_part.get_content() if html_part else None,
                sent_at=int(path.stem) / 1e9,
                sender=str(parsed["From"]),
                reply_to=str(parsed["Reply-To"]) if parsed["Reply-To"] else None,
                attachments=attachments,
            )
        )
    return messages
