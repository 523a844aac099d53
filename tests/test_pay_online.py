"""Paying an invoice online from its pay link, against the real Stripe emulator: success, a
decline then another card, 3-D Secure completed and failed, Stripe unreachable, a retried request,
and every link that must not work."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clinic_saas.billing import invoices
from clinic_saas.extensions import db
from clinic_saas.models import (
    AttemptStatus,
    CardAttempt,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentChannel,
    SavedCard,
    StripeCustomer,
)
from clinic_saas.payments import pay_links
from clinic_saas.payments.stripe_gateway import gateway

from .payments_support import (
    TODAY,
    confirm_setup,
    invoice_of,
    issued_invoice,
    on_clinic,
    pay_post,
    pay_with,
    rows,
    stripe_client,
)

VISA = "4242424242424242"
DECLINED = "4000000000000341"
THREE_D_SECURE = "4000002500003155"


@pytest.fixture
def emulator(stripe_emulator):
    return stripe_emulator


def test_the_pay_page_shows_the_clinic_the_invoice_and_the_balance(app, client, clinic_a):
    invoice_id, token = issued_invoice(app, clinic_a, (4500, 1500))
    invoice = invoice_of(app, clinic_a, invoice_id)
    page = client.get(f"/pay/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Northside Sports Massage" in html and invoice.number in html
    assert "Sports massage 1" in html and "Sports massage 2" in html
    assert "£60.00" in html
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_the_pay_page_allows_exactly_the_stripe_js_origin(app, client, clinic_a):
    _, token = issued_invoice(app, clinic_a)
    origin = app.config["STRIPE_JS_URL"].split("/js.stripe.com")[0]
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in client.get(f"/pay/{token}").headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == f"'self' {origin}"
    assert policy["connect-src"] == f"'self' {origin}"
    assert policy["frame-src"] == origin
    everywhere = dict(
        directive.strip().split(" ", 1)
        for directive in client.get("/login").headers["Content-Security-Policy"].split(";")
    )
    assert everywhere["script-src"] == "'self'" and "frame-src" not in everywhere
    widened = {"script-src", "connect-src", "frame-src"}
    assert {k: v for k, v in policy.items() if k not in widened} == {
        k: v for k, v in everywhere.items() if k not in widened
    }


def test_a_client_pays_the_balance_online_and_keeps_the_card(app, client, clinic_a, emulator):
    invoice_id, token = issued_invoice(app, clinic_a, (6000,))
    _attempt, answer = pay_with(client, emulator, token, VISA, keep_card=True)
    body = answer.get_json()
    assert answer.status_code == 200 and body["status"] == "succeeded", body
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PAID
    [payment] = rows(app, clinic_a, Payment)
    assert (payment.amount_minor, payment.currency, payment.channel) == (
        6000,
        "GBP",
        PaymentChannel.ONLINE,
    )
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")
    [saved] = rows(app, clinic_a, SavedCard)
    assert saved.last4 == "4242" and "Northside" in saved.consent_text and saved.consent_at
    assert len(rows(app, clinic_a, StripeCustomer)) == 1
    receipt = client.get(body["receipt_url"])
    assert receipt.status_code == 200 and "ending 4242" in receipt.get_data(as_text=True)
    paid = client.get(f"/pay/{token}")
    assert paid.status_code == 410 and "is paid" in paid.get_data(as_text=True)


def test_a_declined_card_then_another_card_on_a_new_attempt(app, client, clinic_a, emulator):
    invoice_id, token = issued_invoice(app, clinic_a, (5000,))
    first, declined = pay_with(client, emulator, token, DECLINED)
    body = declined.get_json()
    assert body["status"] == "failed" and "declined" in body["message"].lower()
    assert rows(app, clinic_a, Payment) == []
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.ISSUED
    # The declined attempt is over: charging it again is refused, never retried in place.
    again = pay_post(client, token, "charge", attempt=first, setup_intent="seti_x")
    assert again.status_code == 409
    second, paid = pay_with(client, emulator, token, VISA)
    assert second != first and paid.get_json()["status"] == "succeeded"
    attempts = {str(a.id): a for a in rows(app, clinic_a, CardAttempt)}
    assert attempts[first].status == AttemptStatus.FAILED and attempts[first].failure
    assert attempts[second].status == AttemptStatus.SUCCEEDED
    assert attempts[first].stripe_payment_intent_id != attempts[second].stripe_payment_intent_id
    assert [p.amount_minor for p in rows(app, clinic_a, Payment)] == [5000]


def test_three_d_secure_completed_pays(app, client, clinic_a, emulator):
    invoice_id, token = issued_invoice(app, clinic_a, (7000,))
    attempt, answer = pay_with(client, emulator, token, THREE_D_SECURE)
    body = answer.get_json()
    assert body["status"] == "requires_action" and body["client_secret"]
    assert rows(app, clinic_a, Payment) == []
    [row] = rows(app, clinic_a, CardAttempt)
    emulator.authenticate(row.stripe_payment_intent_id, body["client_secret"], success=True)
    confirmed = pay_post(client, token, "confirm", attempt=attempt)
    assert confirmed.get_json()["status"] == "succeeded"
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PAID
    # Asking again (a double tap) records nothing more.
    assert pay_post(client, token, "confirm", attempt=attempt).get_json()["status"] == "succeeded"
    assert len(rows(app, clinic_a, Payment)) == 1


def test_three_d_secure_failed_records_nothing(app, client, clinic_a, emulator):
    invoice_id, token = issued_invoice(app, clinic_a, (7000,))
    attempt, answer = pay_with(client, emulator, token, THREE_D_SECURE)
    body = answer.get_json()
    [row] = rows(app, clinic_a, CardAttempt)
    emulator.authenticate(row.stripe_payment_intent_id, body["client_secret"], success=False)
    failed = pay_post(client, token, "confirm", attempt=attempt).get_json()
    assert failed["status"] == "failed" and "authentication" in failed["message"]
    assert rows(app, clinic_a, Payment) == []
    assert rows(app, clinic_a, CardAttempt)[0].status == AttemptStatus.FAILED
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.ISSUED


def test_stripe_unreachable_records_nothing_and_a_retry_charges_once(
    app, client, clinic_a, emulator, make_app
):
    invoice_id, token = issued_invoice(app, clinic_a, (3000,))
    started = pay_post(client, token, "start", keep_card="0").get_json()
    setup_id = confirm_setup(emulator, started["client_secret"], VISA)
    closed = emulator_closed_port()
    broken = make_app(STRIPE_API_BASE=f"http://127.0.0.1:{closed}")
    broken_client = broken.test_client()
    answer = pay_post(
        broken_client, token, "charge", attempt=started["attempt"], setup_intent=setup_id
    )
    assert answer.status_code == 503
    assert "nothing was recorded as paid" in answer.get_json()["message"]
    assert rows(app, clinic_a, Payment) == []
    [attempt] = rows(app, clinic_a, CardAttempt)
    assert attempt.status == AttemptStatus.STARTED  # kept for the retry or reconciliation
    retried = pay_post(client, token, "charge", attempt=started["attempt"], setup_intent=setup_id)
    assert retried.get_json()["status"] == "succeeded"
    assert [p.amount_minor for p in rows(app, clinic_a, Payment)] == [3000]
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PAID


def emulator_closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed once the block ends: nothing listens there


def test_a_retried_charge_reuses_the_intent_already_created(app, client, clinic_a, emulator):
    """A request that created the intent and then died: the retry confirms that same intent."""
    invoice_id, token = issued_invoice(app, clinic_a, (2500,))
    started = pay_post(client, token, "start", keep_card="0").get_json()
    setup_id = confirm_setup(emulator, started["client_secret"], VISA)
    setup = stripe_client(emulator).v1.setup_intents.retrieve(setup_id)

    def created_then_lost(clinic):
        from clinic_saas import tenancy

        attempt = tenancy.find(CardAttempt, started["attempt"])
        intent = gateway().create_payment_intent(
            amount=2500,
            currency="GBP",
            metadata={"clinic_id": clinic.id, "invoice_id": invoice_id, "attempt_id": attempt.id},
            idempotency_key=f"pay:{clinic.id}:{invoice_id}:{attempt.id}",
            payment_method=setup.payment_method,
        )
        attempt.stripe_payment_intent_id = intent.id
        attempt.stripe_payment_method_id = setup.payment_method
        return intent.id

    intent_id = on_clinic(app, clinic_a, created_then_lost)
    answer = pay_post(client, token, "charge", attempt=started["attempt"], setup_intent=setup_id)
    assert answer.get_json()["status"] == "succeeded"
    [payment] = rows(app, clinic_a, Payment)
    assert payment.stripe_payment_intent_id == intent_id
    listed = stripe_client(emulator).v1.payment_intents.list({"limit": 100})
    mine = [
        pi
        for pi in listed.auto_paging_iter()
        if pi.to_dict()["metadata"].get("attempt_id") == started["attempt"]
    ]
    assert len(mine) == 1


def test_a_settled_void_or_draft_invoice_cannot_start_a_payment(app, client, clinic_a):
    _draft_id, draft_token = issued_invoice(app, clinic_a, issue=False)
    assert client.get(f"/pay/{draft_token}").status_code == 409
    assert pay_post(client, draft_token, "start").status_code == 400

    void_id, void_token = issued_invoice(app, clinic_a, email="bo@example.com")

    def void(clinic):
        from clinic_saas import tenancy

        invoices.void(clinic, tenancy.find(Invoice, void_id), reason="Booked in error")

    on_clinic(app, clinic_a, void)
    page = client.get(f"/pay/{void_token}")
    assert page.status_code == 410 and "cancelled this invoice" in page.get_data(as_text=True)
    refused = pay_post(client, void_token, "start")
    assert refused.status_code == 400 and "void" in refused.get_json()["message"]
    assert rows(app, clinic_a, CardAttempt) == []


def test_tampered_expired_and_other_clinic_links_are_refused(
    app, client, clinic_a, clinic_b, monkeypatch
):
    invoice_id, token = issued_invoice(app, clinic_a)
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    page = client.get(f"/pay/{tampered}")
    assert page.status_code == 400 and "not valid" in page.get_data(as_text=True)
    assert client.get("/pay/" + "x" * 400).status_code == 400
    assert pay_post(client, tampered, "start").status_code == 400

    with app.app_context():
        other = pay_links._serializer().dumps({"c": clinic_b.clinic_id.hex, "i": invoice_id.hex})
    assert client.get(f"/pay/{other}").status_code == 400

    monkeypatch.setattr(pay_links, "PAY_LINK_MAX_AGE", timedelta(seconds=-1))
    expired = client.get(f"/pay/{token}")
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    assert rows(app, clinic_a, CardAttempt) == []


def test_the_pay_link_command_prints_a_link_that_opens_the_invoice(app, client, clinic_a):
    invoice_id, _ = issued_invoice(app, clinic_a)
    number = invoice_of(app, clinic_a, invoice_id).number
    result = app.test_cli_runner().invoke(args=["pay-link", number, "--clinic", "northside"])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith(app.config["PUBLIC_BASE_URL"] + "/pay/")
    assert client.get(url.removeprefix(app.config["PUBLIC_BASE_URL"])).status_code == 200
    missing = app.test_cli_runner().invoke(args=["pay-link", "NOPE-1", "--clinic", "northside"])
    assert missing.exit_code != 0 and "no invoice" in missing.output
    elsewhere = app.test_cli_runner().invoke(args=["pay-link", number, "--clinic", "harbour"])
    assert elsewhere.exit_code != 0


def test_a_second_device_cannot_pay_what_the_first_already_paid(app, client, clinic_a, emulator):
    """Two pages open at once: the later charge is refused before the card is charged."""
    _invoice_id, token = issued_invoice(app, clinic_a, (4000,))
    first = pay_post(client, token, "start").get_json()
    second = pay_post(client, token, "start").get_json()
    first_setup = confirm_setup(emulator, first["client_secret"], VISA)
    second_setup = confirm_setup(emulator, second["client_secret"], VISA)
    paid = pay_post(client, token, "charge", attempt=first["attempt"], setup_intent=first_setup)
    assert paid.get_json()["status"] == "succeeded"
    late = pay_post(client, token, "charge", attempt=second["attempt"], setup_intent=second_setup)
    assert late.status_code == 400 and "already paid" in late.get_json()["message"]
    assert [p.amount_minor for p in rows(app, clinic_a, Payment)] == [4000]
    attempts = {str(a.id): a for a in rows(app, clinic_a, CardAttempt)}
    assert attempts[second["attempt"]].stripe_payment_intent_id is None  # never charged


def test_the_pay_page_posts_are_rate_limited_and_need_the_csrf_token(app, client, clinic_a):
    _, token = issued_invoice(app, clinic_a)
    unsigned = client.post(f"/pay/{token}/charge", data={"attempt": "x"})
    assert unsigned.status_code == 400
    limit = int(app.config["FORM_LIMIT_PER_ADDRESS"].split()[0])
    statuses = [
        pay_post(client, token, "confirm", attempt="not-an-attempt").status_code
        for _ in range(limit + 1)
    ]
    assert statuses[:limit] == [400] * limit
    assert statuses[-1] == 429
    assert rows(app, clinic_a, CardAttempt) == []


def test_a_club_pays_its_invoice_online_without_keeping_a_card(
    app, client, clinic_a, stripe_emulator
):
    from clinic_saas.models import Organisation

    def club_invoice(clinic):
        club = Organisation(name="Harriers AC", billing_email="treasurer@harriers.example")
        db.session.add(club)
        db.session.flush()
        invoice = invoices.new_draft(clinic, client=None, payer=club, by=None)
        invoices.add_line(invoice, description="Squad sessions", unit_price_minor=12000)
        invoices.issue(clinic, invoice, today=TODAY)
        return invoice.id, pay_links.token_for(invoice)

    invoice_id, token = on_clinic(app, clinic_a, club_invoice)
    page = client.get(f"/pay/{token}").get_data(as_text=True)
    assert "Keep my card" not in page and "Harriers AC" in page
    _attempt, answer = pay_with(client, stripe_emulator, token, VISA, keep_card=True)
    assert answer.get_json()["status"] == "succeeded"
    assert invoice_of(app, clinic_a, invoice_id).status == InvoiceStatus.PAID
    assert rows(app, clinic_a, SavedCard) == [] and rows(app, clinic_a, StripeCustomer) == []
