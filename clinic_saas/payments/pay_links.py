"""Pay links: the signed, expiring address a client opens to pay one invoice, with no account.

The token names the clinic and the invoice, signed with SECRET_KEY under its own salt, so it
cannot be altered nor used for another clinic's invoice; it expires after PAY_LINK_MAX_AGE. It
holds no secret of its own: a fresh link is printed or emailed whenever wanted, and an invoice
that is void or paid makes every link to it say so.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from itsdangerous import BadData, BadSignature, SignatureExpired, URLSafeTimedSerializer

from .. import tenancy
from ..extensions import db
from ..mail import public_url
from ..models import Clinic, Invoice
from ..refusals import Gone, Refusal

LINK_SALT = "pay-link"
PAY_LINK_MAX_AGE = timedelta(days=60)
TOKEN_MAX = 300  # a real token is about 110 characters

INVALID_LINK = (
    "This payment link is not valid. Check that you opened the whole link from the email, or "
    "ask the clinic for a new one."
)


class PayLinkError(Refusal):
    """A link that cannot be used; `message` is safe to show anyone (HTTP 400)."""


class PayLinkGone(PayLinkError, Gone):
    """A link that has expired (HTTP 410)."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def token_for(invoice: Invoice) -> str:
    """A fresh token for the invoice's pay link."""
    return _serializer().dumps({"c": invoice.clinic_id.hex, "i": invoice.id.hex})


def pay_url(invoice: Invoice) -> str:
    """The absolute pay link of an invoice, on PUBLIC_BASE_URL (for emails and the CLI)."""
    return public_url("pay.page", token=token_for(invoice))


def _payload(token: str) -> tuple[dict, bool]:
    if not isinstance(token, str) or len(token) > TOKEN_MAX:
        raise PayLinkError(INVALID_LINK)
    serializer = _serializer()
    try:
        return serializer.loads(token, max_age=int(PAY_LINK_MAX_AGE.total_seconds())), False
    except SignatureExpired as expired:
        try:
            return serializer.load_payload(expired.payload), True
        except BadData as exc:
            raise PayLinkError(INVALID_LINK) from exc
    except BadSignature as exc:
        raise PayLinkError(INVALID_LINK) from exc
    except (BadData, ValueError, UnicodeError) as exc:
        raise PayLinkError(INVALID_LINK) from exc


def open_link(token: str) -> Invoice:
    """The invoice a token names, with its clinic bound; PayLinkError when unusable."""
    data, expired = _payload(token)
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in "ci"):
        raise PayLinkError(INVALID_LINK)
    clinic_id, invoice_id = tenancy.parse_id(data["c"]), tenancy.parse_id(data["i"])
    if clinic_id is None or invoice_id is None:
        raise PayLinkError(INVALID_LINK)
    clinic = db.session.get(Clinic, clinic_id)  # Clinic is not clinic-owned: no scope needed
    if clinic is None or not clinic.active:
        raise PayLinkError(INVALID_LINK)
    tenancy.bind(clinic)
    invoice = tenancy.find(Invoice, invoice_id)
    if invoice is None:
        raise PayLinkError(INVALID_LINK)
    if expired:
        raise PayLinkGone(f"This payment link has expired. Ask {clinic.name} for a new one.")
    return invoice
