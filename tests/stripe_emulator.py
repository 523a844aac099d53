"""The Stripe emulator for the tests: one per test process (each xdist worker has its own).

Its loopback port is reserved when the session starts, so that the app's configuration carries
its address from the first test; the emulator itself starts only when a test asks for the
`stripe_emulator` fixture, and stops when the session ends. Until it starts, a call to Stripe is
refused at once (StripeUnavailable), never left waiting. Without localstripe installed the
fixture skips, except under CI=true, where it fails.

Helpers for tests: empty the store, register a webhook, complete or fail 3-D Secure, and build a
signed webhook event for the events the emulator never sends (refunds, disputes, accounts...).
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
import uuid
from pathlib import Path

import pytest
import stripe

from clinic_saas.devtools import emulator_control

TEST_SECRET_KEY = "sk_test_clinic_saas_tests"
TEST_WEBHOOK_SECRET = "whsec_clinic_saas_tests"


class StripeEmulator:
    """The test process's emulator: its address, and the helpers tests drive it with."""

    def __init__(self, log_path: Path) -> None:
        self._sock = emulator_control.reserve()
        self.base_url = emulator_control.address(self._sock)
        self._log_path = log_path
        self._log = None
        self._process = None

    @property
    def js_url(self) -> str:
        """Where the emulator serves its Stripe.js stand-in."""
        return f"{self.base_url}/js.stripe.com/v3/"

    def settings(self) -> dict:
        """The app configuration that points at this emulator."""
        return {
            "STRIPE_API_BASE": self.base_url,
            "STRIPE_JS_URL": self.js_url,
            "STRIPE_SECRET_KEY": TEST_SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": TEST_WEBHOOK_SECRET,
            "STRIPE_CONNECT": False,
            "STRIPE_ONBOARDING": "fake",
        }

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the emulator on the reserved port (once) and wait until it answers."""
        if self.running:
            return
        if importlib.util.find_spec("localstripe") is None:
            message = "localstripe is not installed (pip install -e '.[dev]')"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"the Stripe emulator is required under CI: {message}")
            pytest.skip(message)
        self._log = open(self._log_path, "a")  # noqa: SIM115 (closed in stop)
        self._process = emulator_control.spawn(self._sock, self._log)
        try:
            emulator_control.wait_until_ready(self.base_url, alive=lambda: self.running)
        except emulator_control.EmulatorNotAnswering as error:
            self.stop()
            log = self._log_path.read_text(errors="replace")[-2000:]
            pytest.fail(f"{error}\n{log}")

    def stop(self) -> None:
        """Stop the emulator, if it runs."""
        if self._process is not None:
            emulator_control.stop(self._process)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def close(self) -> None:
        """Stop the emulator and give its port back."""
        self.stop()
        self._sock.close()

    def clear(self) -> None:
        """Empty the store (webhook registrations stay)."""
        emulator_control.clear_data(self.base_url)

    def register_webhook(self, url: str, secret: str = TEST_WEBHOOK_SECRET, **kwargs) -> None:
        """Deliver the emulator's events to `url`, signed with `secret`."""
        emulator_control.register_webhook(self.base_url, url, secret, **kwargs)

    def authenticate(self, intent_id: str, client_secret: str, *, success: bool = True) -> None:
        """Complete (or fail) a PaymentIntent's 3-D Secure step, as the browser's modal would."""
        emulator_control.authenticate(self.base_url, intent_id, client_secret, success=success)


def signed_event(
    event_type: str,
    data_object: dict,
    *,
    secret: str = TEST_WEBHOOK_SECRET,
    account: str | None = None,
    event_id: str | None = None,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A webhook delivery as Stripe would send it: (raw body, headers with Stripe-Signature).

    `timestamp` signs it at another time (a stale delivery); `account` makes it a Connect event."""
    now = int(time.time())
    event = {
        "id": event_id or f"evt_test_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": stripe.api_version,
        "created": now,
        "livemode": False,
        "pending_webhooks": 1,
        "type": event_type,
        "data": {"object": data_object},
    }
    if account:
        event["account"] = account
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        body, secret, timestamp=timestamp if timestamp is not None else now
    )
    return body.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}


@pytest.fixture(scope="session")
def stripe_reserved(tmp_path_factory) -> StripeEmulator:
    """This process's emulator, reserved but not started: the app's settings point at it."""
    emulator = StripeEmulator(tmp_path_factory.mktemp("stripe") / "emulator.log")
    yield emulator
    emulator.close()


@pytest.fixture(scope="session")
def stripe_emulator(stripe_reserved) -> StripeEmulator:
    """The running emulator, started by the first test that asks for it."""
    stripe_reserved.start()
    return stripe_reserved
