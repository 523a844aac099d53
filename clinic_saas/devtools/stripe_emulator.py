"""Run the localstripe Stripe emulator for development and tests, on loopback, from an empty store.

localstripe is GPL-3.0, so we only import it and run it in a process of its own; none of its code
is copied here. Its stock `localstripe --port N` command listens on every interface, which would put
a fake payment server on the network, and reloads whatever an earlier run left in its pickle file,
so a test could see customers and intents it never created.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import socket

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8420

log = logging.getLogger("clinic_saas.stripe_emulator")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _keep_in_memory() -> None:
    """Stand in for localstripe's pickling, which every write would otherwise trigger.

    The pickle path is fixed (/tmp/localstripe.pickle) and shared by every emulator on the machine:
    parallel test runs would overwrite each other's file, a file left by another user makes every
    write fail, and re-pickling the whole store on each write slows long runs. We always start
    empty, so nothing ever needs to be read back.
    """


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m clinic_saas.devtools.stripe_emulator",
        description="Stripe emulator (localstripe) for development and tests, never production.",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to listen on (default %(default)s: reachable from this machine only)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s")
    parser.add_argument(
        "--fd",
        type=int,
        help="serve on this bound socket inherited from the parent instead of --host/--port "
        "(tests reserve the port before the emulator starts, so no other process can take it)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sock = socket.socket(fileno=args.fd) if args.fd is not None else None
    host = sock.getsockname()[0] if sock else args.host
    if not _is_loopback(host):
        log.warning("listening on %s: reachable from outside this machine", host)

    # Imported here, not at module level, so that --help and imports of this module stay cheap and
    # localstripe (a development-only dependency) is needed only when the emulator actually runs.
    from aiohttp import web
    from localstripe import resources, server

    # The store is a dict at module level; an attribute on the instance shadows the class's method,
    # which both the store itself and localstripe's save middleware call.
    resources.store.dump_to_disk = _keep_in_memory
    resources.store.clear()

    web.run_app(
        server.app,
        host=None if sock else args.host,
        port=None if sock else args.port,
        sock=sock,
        access_log=logging.getLogger("aiohttp.access"),
        # A container stop allows 10 s before SIGKILL; the emulator has no long requests to finish.
        shutdown_timeout=5.0,
    )


if __name__ == "__main__":
    main()
