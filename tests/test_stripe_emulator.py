"""The emulator as development and the tests get it: through our launcher, on loopback, with the
browser's Stripe.js stand-in, and beside the app in `make run` (emulator_control serve-with)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from clinic_saas.devtools import emulator_control
from clinic_saas.payments.stripe_gateway import verify_webhook

ROOT = Path(__file__).resolve().parent.parent


def test_the_emulator_serves_stripe_js_where_the_app_says(app, stripe_emulator):
    assert app.config["STRIPE_API_BASE"] == stripe_emulator.base_url
    assert app.config["STRIPE_JS_URL"] == f"{stripe_emulator.base_url}/js.stripe.com/v3/"
    with urllib.request.urlopen(app.config["STRIPE_JS_URL"], timeout=5) as response:  # noqa: S310
        script = response.read().decode()
        assert response.status == 200
    assert "confirmCardPayment" in script and "confirmCardSetup" in script
    assert stripe_emulator.base_url.startswith("http://127.0.0.1:")


def test_the_dev_extra_and_the_dockerfile_pin_the_same_localstripe():
    pyproject = (ROOT / "pyproject.toml").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    pinned = re.search(r'"localstripe==([^"]+)"', pyproject)
    argument = re.search(r"ARG LOCALSTRIPE_VERSION=(\S+)", dockerfile)
    assert pinned and argument
    assert pinned.group(1) == argument.group(1)


COMMAND = """
import os, sys, time, urllib.request, urllib.parse
base = os.environ["STRIPE_API_BASE"]
form = urllib.parse.urlencode({"amount": 900, "currency": "gbp", "confirm": "true",
    "payment_method": "pm_card_visa", "payment_method_types[]": "card"}).encode()
request = urllib.request.Request(base + "/v1/payment_intents", data=form,
    headers={"Authorization": "Bearer sk_test_make_run"})
urllib.request.urlopen(request, timeout=5).read()
deadline = time.monotonic() + 15
while time.monotonic() < deadline and not os.path.exists(sys.argv[1]):
    time.sleep(0.1)
print("base", base)
"""


def test_make_run_serves_the_app_beside_an_emulator_that_delivers_its_webhooks(tmp_path):
    if importlib.util.find_spec("localstripe") is None:
        pytest.skip("localstripe is not installed")  # a failure under CI (conftest)
    delivered = tmp_path / "delivered"
    bodies: list[tuple[bytes, str]] = []

    class App(BaseHTTPRequestHandler):
        def do_POST(self):
            bodies.append(
                (
                    self.rfile.read(int(self.headers["Content-Length"])),
                    self.headers["Stripe-Signature"],
                )
            )
            delivered.touch()
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    with emulator_control.reserve() as sock:
        port = sock.getsockname()[1]
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "clinic_saas.devtools.emulator_control",
                "serve-with",
                "--port",
                str(port),
                "--webhook-url",
                f"http://127.0.0.1:{receiver.server_port}/webhooks/stripe",
                "--secret",
                "whsec_make_run",
                "--log",
                str(tmp_path / "emulator.log"),
                "--",
                sys.executable,
                "-c",
                COMMAND,
                str(delivered),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    finally:
        receiver.shutdown()
    base = f"http://127.0.0.1:{port}"
    assert result.returncode == 0, result.stderr
    assert f"base {base}" in result.stdout
    assert bodies, "the emulator delivered no webhook to the app's address"
    event = verify_webhook(bodies[0][0], bodies[0][1], secret="whsec_make_run")
    assert event["type"].startswith("payment_intent.")
    assert not emulator_control.answers(base), "the emulator outlived the command"


def test_make_run_says_so_when_the_emulator_port_is_taken():
    with emulator_control.reserve() as sock:
        sock.listen()
        port = sock.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "clinic_saas.devtools.emulator_control",
                "serve-with",
                "--port",
                str(port),
                "--webhook-url",
                "http://127.0.0.1:5000/webhooks/stripe",
                "--",
                sys.executable,
                "-c",
                "raise SystemExit('must not run')",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
        )
    assert result.returncode == 1
    assert f"127.0.0.1:{port} is taken" in result.stderr
    assert "must not run" not in result.stderr
