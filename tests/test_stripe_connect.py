"""The owner connects the clinic's own Stripe account (Connect onboarding through the fake, as
the emulator has no Connect) and Settings shows whether it can take charges."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from clinic_saas.extensions import db
from clinic_saas.models import Clinic
from clinic_saas.payments.onboarding import FakeOnboarding

from .conftest import AuthActions

PAGE = "/c/northside/settings/card-payments"


@pytest.fixture(autouse=True)
def _no_fake_accounts():
    FakeOnboarding.forget_all()
    yield
    FakeOnboarding.forget_all()


def _clinic(app) -> Clinic:
    with app.app_context():
        return db.session.scalar(select(Clinic).where(Clinic.slug == "northside"))


def test_single_account_mode_has_nothing_to_connect(client, auth, clinic_a):
    auth.login_as("owner", clinic_a)
    page = client.get(PAGE).get_data(as_text=True)
    assert 'data-testid="single-account"' in page and "connect-stripe" not in page
    answer = client.post_form(f"{PAGE}/connect", {})
    assert answer.status_code == 302
    assert _clinic(client.application).stripe_account_id is None


def test_the_owner_connects_the_clinics_stripe_account(make_app, clinic_a):
    app = make_app(STRIPE_CONNECT=True, STRIPE_ONBOARDING="fake")
    client = app.test_client()
    auth = AuthActions(client)
    auth.login_as("owner", clinic_a)
    assert 'data-testid="not-connected"' in client.get(PAGE).get_data(as_text=True)

    answer = client.post_form(f"{PAGE}/connect", {})
    assert answer.status_code == 302
    # The fake's Account Link leads straight back to our return address, on PUBLIC_BASE_URL.
    assert answer.headers["Location"] == f"http://127.0.0.1:5000{PAGE}/return"
    account = _clinic(app).stripe_account_id
    assert account.startswith("acct_fake_")

    back = client.get(f"{PAGE}/return")
    assert back.status_code == 302
    clinic = _clinic(app)
    assert clinic.stripe_charges_enabled and clinic.stripe_details_submitted
    page = client.get(PAGE).get_data(as_text=True)
    assert 'data-testid="connected"' in page and account in page

    # Stripe later asks for more details: the account stops taking charges.
    FakeOnboarding.set_status(account, charges_enabled=False, details_submitted=True)
    client.get(f"{PAGE}/return")
    page = client.get(PAGE).get_data(as_text=True)
    assert 'data-testid="pending"' in page and "Continue with Stripe" in page
    # Connecting again keeps the same account.
    client.post_form(f"{PAGE}/connect", {})
    assert _clinic(app).stripe_account_id == account


@pytest.mark.parametrize("role", ["receptionist", "therapist", "manager"])
def test_only_the_owner_manages_card_payments(client, auth, clinic_a, role):
    auth.login_as(role, clinic_a)
    assert client.get(PAGE).status_code == 403
    assert client.post_form(f"{PAGE}/connect", {}).status_code == 403
