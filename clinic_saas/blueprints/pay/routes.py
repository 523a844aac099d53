"""The pay page a client opens from an emailed link: pay an invoice's balance by card, no account.

The signed token names the clinic and the invoice (payments/pay_links.py). The page follows the
flow that works on Stripe and on the emulator alike: `start` opens a card attempt and a SetupIntent;
the page confirms it with the card element (confirmCardSetup); `charge` creates and confirms the
PaymentIntent for the balance with that card (payments/card.py); when the card asks for 3-D Secure
the page runs confirmCardPayment and asks `confirm` to re-read the intent. Only `succeeded` is
recorded, through the same path as the webhook. The POSTs answer JSON, carry the CSRF token in a
header and are rate-limited like the intake form.

This blueprint's pages have their own Content Security Policy: the app's, plus exactly the
configured Stripe.js origin in script-src, frame-src and connect-src.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, jsonify, render_template, request, url_for

from ... import tenancy
from ...billing import balances, invoices
from ...extensions import limiter
from ...models import CardAttempt, Client, InvoiceStatus, PayerKind, Payment, PaymentChannel
from ...payments import card, pay_links, recording, saved_cards
from ...payments.card import CardPaymentRefused
from ...permissions import public
from ...refusals import Refusal
from ...unit_of_work import discard_changes

bp = Blueprint("pay", __name__)

CONSENT_BY = "Client (pay link)"
LIVE_STRIPE_JS_ORIGIN = "https://js.stripe.com"
# What real Stripe.js needs beside its own origin (STRIPE.md): its 3-D Secure frames and its API.
LIVE_STRIPE_EXTRA = {
    "frame-src": ["https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}
NOT_SET_UP = "The card could not be checked: nothing was taken. Enter it again."


def _form_limit():
    return current_app.config["FORM_LIMIT_PER_ADDRESS"]


def _stripe_origin() -> str:
    parts = urlsplit(current_app.config["STRIPE_JS_URL"])
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy() -> str:
    """The app's policy with the Stripe.js origin allowed where Stripe.js needs it."""
    origin = _stripe_origin()
    extra = {"script-src": [origin], "frame-src": [origin], "connect-src": [origin]}
    if origin == LIVE_STRIPE_JS_ORIGIN:
        for name, sources in LIVE_STRIPE_EXTRA.items():
            extra[name] = extra[name] + sources
    directives: list[str] = []
    for directive in current_app.config["CONTENT_SECURITY_POLICY"].split(";"):
        name, _, sources = directive.strip().partition(" ")
        if name in extra:
            sources = " ".join([sources, *extra.pop(name)])
        directives.append(f"{name} {sources}".strip())
    directives.extend(f"{name} {' '.join(sources)}" for name, sources in extra.items())
    return "; ".join(directives)


@bp.after_request
def _headers(response):
    """The token is in the URL: never send it on as a referrer, never index the page."""
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _problem(message: str, status: int):
    return render_template("pay/problem.html", message=message, status=status), status


def _refused(error: Refusal):
    return jsonify(status="refused", message=error.message), error.status


def _payer_client(invoice) -> Client | None:
    if invoice.payer_kind != PayerKind.CLIENT:
        return None
    payer = tenancy.find(Client, invoice.payer_client_id)
    return payer if payer is not None and payer.erased_at is None else None


def _not_payable(invoice, balance) -> tuple[str, int] | None:
    clinic = g.clinic
    if invoice.status == InvoiceStatus.DRAFT:
        return f"This invoice has not been issued yet. Ask {clinic.name} for a new link.", 409
    if invoice.status == InvoiceStatus.VOID:
        return f"{clinic.name} cancelled this invoice: there is nothing to pay.", 410
    if balance.due <= 0:
        return f"Invoice {invoice.number} is paid. Thank you! Nothing more is due.", 410
    return None


@bp.get("/pay/<token>")
@public
def page(token: str):
    """The invoice, its balance due and the card form."""
    try:
        invoice = pay_links.open_link(token)
    except pay_links.PayLinkError as error:
        discard_changes()
        return _problem(error.message, error.status)
    balance = balances.of(invoice)
    problem = _not_payable(invoice, balance)
    if problem is not None:
        has_receipt = recording.payments_of(invoice) != []
        return render_template(
            "pay/problem.html",
            message=problem[0],
            status=problem[1],
            receipt_url=url_for(".receipt", token=token) if has_receipt else None,
        ), problem[1]
    config = current_app.config
    return render_template(
        "pay/page.html",
        clinic=g.clinic,
        invoice=invoice,
        lines=invoices.lines_of(invoice),
        balance=balance,
        token=token,
        may_keep_card=_payer_client(invoice) is not None,
        consent_text=saved_cards.consent_text(g.clinic),
        stripe_js_url=config["STRIPE_JS_URL"],
        publishable_key=config["STRIPE_PUBLISHABLE_KEY"],
        stripe_account=g.clinic.stripe_account_id if config.get("STRIPE_CONNECT") else "",
    )


def _attempt_of(invoice) -> CardAttempt:
    attempt = tenancy.find(CardAttempt, request.form.get("attempt", ""))
    if attempt is None or attempt.invoice_id != invoice.id:
        raise CardPaymentRefused("This payment was not started here: reload the page.")
    return attempt


def _answer(outcome: card.Outcome, token: str):
    body = {"status": outcome.status, "attempt": str(outcome.attempt.id)}
    if outcome.message:
        body["message"] = outcome.message
    if outcome.client_secret:
        body["client_secret"] = outcome.client_secret
    if outcome.succeeded:
        body["receipt_url"] = url_for(".receipt", token=token)
    return jsonify(body)


@bp.post("/pay/<token>/start")
@public
@limiter.limit(_form_limit)
def start(token: str):
    """Open a card attempt for the balance and a SetupIntent for the card element."""
    try:
        invoice = pay_links.open_link(token)
        attempt = card.open_attempt(
            g.clinic, invoice, channel=PaymentChannel.ONLINE, started_by=None, location_id=None
        )
        client = _payer_client(invoice)
        keep = request.form.get("keep_card") == "1" and client is not None
        customer = card.customer_for(g.clinic, client) if client is not None else None
        setup = card.prepare_card(g.clinic, attempt, customer=customer, keep_card=keep)
    except Refusal as error:
        discard_changes()
        return _refused(error)
    return jsonify(status="started", attempt=str(attempt.id), client_secret=setup.client_secret)


@bp.post("/pay/<token>/charge")
@public
@limiter.limit(_form_limit)
def charge(token: str):
    """Charge the card the page set up, for the balance; a retry reuses the attempt's intent."""
    try:
        invoice = pay_links.open_link(token)
        attempt = _attempt_of(invoice)
        payment_method, customer = attempt.stripe_payment_method_id, None
        if attempt.stripe_payment_intent_id is None:
            gateway = card.gateway_for(g.clinic)
            setup = gateway.retrieve_setup_intent(request.form.get("setup_intent", "")[:255])
            if (
                not setup.succeeded
                or setup.metadata.get("attempt_id") != str(attempt.id)
                or not setup.payment_method
            ):
                raise CardPaymentRefused(NOT_SET_UP)
            payment_method, customer = setup.payment_method, setup.customer
            client = _payer_client(invoice)
            if setup.usage == "off_session" and customer and client is not None:
                saved_cards.keep(
                    g.clinic,
                    client,
                    gateway,
                    customer=customer,
                    payment_method_id=payment_method,
                    consent_by=CONSENT_BY,
                )
        outcome = card.charge(
            g.clinic, invoice, attempt, payment_method=payment_method, customer=customer
        )
    except Refusal as error:
        discard_changes()
        return _refused(error)
    return _answer(outcome, token)


@bp.post("/pay/<token>/confirm")
@public
@limiter.limit(_form_limit)
def confirm(token: str):
    """After 3-D Secure in the browser: re-read the intent and record it only if it succeeded."""
    try:
        invoice = pay_links.open_link(token)
        outcome = card.refresh(g.clinic, _attempt_of(invoice))
    except Refusal as error:
        discard_changes()
        return _refused(error)
    return _answer(outcome, token)


@bp.get("/pay/<token>/receipt")
@public
def receipt(token: str):
    """What was received on the invoice, and what is still due."""
    try:
        invoice = pay_links.open_link(token)
    except pay_links.PayLinkError as error:
        discard_changes()
        return _problem(error.message, error.status)
    payments: list[Payment] = recording.payments_of(invoice)
    if not payments:
        return _problem("No payment has been received for this invoice yet.", 404)
    balance = balances.of(invoice)
    return render_template(
        "pay/receipt.html",
        clinic=g.clinic,
        invoice=invoice,
        payments=payments,
        balance=balance,
        overpaid=recording.overpaid_by(balance),
    )
