"""Start and stop the Stripe emulator through our launcher, and talk to its own routes.

Development and test tooling only, over plain urllib: the application itself speaks to Stripe
through payments/stripe_gateway.py alone. `make run` serves the app through `serve-with`:

    python -m clinic_saas.devtools.emulator_control serve-with --port 8420 \\
        --webhook-url http://127.0.0.1:5000/webhooks/stripe -- flask run

reserves the port (a taken port fails at once, not after a confusing wait), starts the emulator
on it, waits until it answers, registers the app's webhook endpoint with STRIPE_WEBHOOK_SECRET,
runs the command with STRIPE_API_BASE pointing at the emulator, and stops the emulator when the
command ends. The tests start theirs with the same `reserve` and `spawn`.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import IO

from clinic_saas.config import DEV_STRIPE_API_BASE, DEV_STRIPE_WEBHOOK_SECRET

# The emulator accepts any secret key and keys do not partition its data.
EMULATOR_KEY = "sk_test_emulator"
DEFAULT_WEBHOOK_ID = "clinic_saas"


class EmulatorNotAnswering(RuntimeError):
    """The emulator did not answer in time (not started, wrong address, or it died)."""


def _request(method: str, url: str, form: dict | list | None = None, timeout: float = 5.0):
    data = urllib.parse.urlencode(form or {}, doseq=True).encode() if form is not None else None
    request = urllib.request.Request(  # noqa: S310 (the URL is the emulator's, on loopback)
        url, data=data, method=method, headers={"Authorization": f"Bearer {EMULATOR_KEY}"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return response.status, response.read()


def answers(base: str) -> bool:
    """Whether the emulator at `base` serves its Stripe.js stand-in (no key, creates nothing)."""
    try:
        status, _ = _request("GET", f"{base}/js.stripe.com/v3/", timeout=2.0)
    except (urllib.error.URLError, OSError):
        return False
    return status == 200


def wait_until_ready(base: str, timeout: float = 20.0, alive=lambda: True) -> None:
    """Poll until the emulator answers; `alive()` false (its process ended) stops early."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(base):
            return
        if not alive():
            raise EmulatorNotAnswering(f"the Stripe emulator at {base} stopped before answering")
        time.sleep(0.1)
    raise EmulatorNotAnswering(f"the Stripe emulator at {base} did not answer in {timeout:.0f} s")


def register_webhook(
    base: str,
    url: str,
    secret: str,
    endpoint_id: str = DEFAULT_WEBHOOK_ID,
    events: Iterable[str] = (),
) -> None:
    """Deliver the emulator's events to `url`, signed with `secret`. Registering the same id
    again replaces it (registrations have no delete route and outlive a data reset)."""
    form: list[tuple[str, str]] = [("url", url), ("secret", secret)]
    form += [("events[]", event) for event in events]
    _request("POST", f"{base}/_config/webhooks/{urllib.parse.quote(endpoint_id)}", form)


def clear_data(base: str) -> None:
    """Empty the emulator's store; webhook registrations stay."""
    _request("DELETE", f"{base}/_config/data")


def authenticate(base: str, intent_id: str, client_secret: str, *, success: bool) -> None:
    """Complete or fail a PaymentIntent's 3-D Secure step, as the browser's modal would.

    An emulator-only route, for tests without a browser: never called by the application."""
    _request(
        "POST",
        f"{base}/v1/payment_intents/{urllib.parse.quote(intent_id)}/_authenticate",
        {"client_secret": client_secret, "success": "true" if success else "false"},
    )


def reserve(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """Bind (without listening) the emulator's address now: port 0 picks a free one. Until the
    emulator listens on it, a connection is refused at once rather than left waiting."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def address(sock: socket.socket) -> str:
    """The base URL of an emulator serving on `sock`."""
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


def spawn(sock: socket.socket, log: IO | None = None) -> subprocess.Popen:
    """Start the launcher on a reserved socket, in a session of its own (a Ctrl-C in the terminal
    reaches the app; whoever spawned the emulator stops it with `stop`)."""
    return subprocess.Popen(  # noqa: S603 (our own module, run by this interpreter)
        [sys.executable, "-m", "clinic_saas.devtools.stripe_emulator", "--fd", str(sock.fileno())],
        pass_fds=(sock.fileno(),),
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    """Stop the emulator: politely, then for good."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _serve_with(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        print("serve-with needs a command to run after --", file=sys.stderr)
        return 2
    try:
        sock = reserve(args.host, args.port)
    except OSError as error:
        print(
            f"Stripe emulator: {args.host}:{args.port} is taken ({error.strerror}); stop what "
            "uses it (another `make run`, or Compose's emulator) or choose another STRIPE_PORT.",
            file=sys.stderr,
        )
        return 1
    base = address(sock)
    log = open(args.log, "a") if args.log else None  # noqa: SIM115 (closed below)
    process = spawn(sock, log)
    sock.close()  # the emulator holds its own copy
    # Stopped by Ctrl-C or SIGTERM: leave through the finally below, which stops the emulator
    # (Ctrl-C even where a non-interactive shell started us with SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        wait_until_ready(base, args.timeout, alive=lambda: process.poll() is None)
        register_webhook(base, args.webhook_url, args.secret)
        print(f"Stripe emulator at {base}, delivering its events to {args.webhook_url}")
        env = dict(os.environ, STRIPE_API_BASE=base)
        try:
            return subprocess.call(command, env=env)  # noqa: S603 (the developer's own command)
        except KeyboardInterrupt:
            return 130
    except (EmulatorNotAnswering, urllib.error.URLError, OSError) as error:
        print(f"Stripe emulator: {error}", file=sys.stderr)
        return 1
    finally:
        stop(process)
        if log:
            log.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m clinic_saas.devtools.emulator_control",
        description="Development helpers for the local Stripe emulator.",
    )
    commands = parser.add_subparsers(dest="action", required=True)
    register = commands.add_parser(
        "register-webhook", help="wait for the emulator, then send its events to the app"
    )
    register.add_argument(
        "--emulator", default=os.environ.get("STRIPE_API_BASE") or DEV_STRIPE_API_BASE
    )
    register.add_argument("--url", required=True, help="the app's /webhooks/stripe address")
    register.add_argument(
        "--secret",
        default=os.environ.get("STRIPE_WEBHOOK_SECRET") or DEV_STRIPE_WEBHOOK_SECRET,
        help="the app's STRIPE_WEBHOOK_SECRET (default: the environment's, else development's)",
    )
    register.add_argument("--id", default=DEFAULT_WEBHOOK_ID)
    register.add_argument("--timeout", type=float, default=20.0)
    serve = commands.add_parser(
        "serve-with", help="run a command beside a fresh emulator that stops when it ends"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8420)
    serve.add_argument("--webhook-url", required=True, help="the app's /webhooks/stripe address")
    serve.add_argument(
        "--secret", default=os.environ.get("STRIPE_WEBHOOK_SECRET") or DEV_STRIPE_WEBHOOK_SECRET
    )
    serve.add_argument("--log", help="append the emulator's log to this file")
    serve.add_argument("--timeout", type=float, default=20.0)
    serve.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.action == "serve-with":
        return _serve_with(args)

    base = args.emulator.rstrip("/")
    try:
        wait_until_ready(base, args.timeout)
        register_webhook(base, args.url, args.secret, args.id)
    except (EmulatorNotAnswering, urllib.error.URLError, OSError) as error:
        print(f"Stripe emulator: {error}", file=sys.stderr)
        return 1
    print(f"Stripe emulator at {base} delivers its events to {args.url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
