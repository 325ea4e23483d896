"""Running the sandbox: from a daemon thread (the tests) or as `python -m
sandboxes.stripe_sandbox` (the demo)."""

from __future__ import annotations

import logging

from sandboxes._server import (
    ThreadingServer,
    argument_parser,
    build_server,
    serve_in_thread,
    serve_until_interrupted,
)
from sandboxes.stripe_sandbox.sandbox import StripeSandbox

logger = logging.getLogger(__name__)

_LOG_PREFIX = "stripe sandbox: "


def serve(
    host: str = "127.0.0.1", port: int = 0, sandbox: StripeSandbox | None = None
) -> tuple[ThreadingServer, str]:
    """Serve `sandbox` (a new one if none is given) as `serve_in_thread` does: from a daemon
    thread, on a free port if `port` is 0; returns the server and its base URL."""
    return serve_in_thread(
        sandbox or StripeSandbox(),
        host=host,
        port=port,
        thread_name="stripe-sandbox",
        logger_name=__name__,
        log_prefix=_LOG_PREFIX,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argument_parser("sandboxes.stripe_sandbox", "Run the local Stripe sandbox.", port=8010)
    parser.add_argument("--state-file", help="JSON file that keeps accounts across restarts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    sandbox = StripeSandbox(state_file=args.state_file)
    server, _ = build_server(
        sandbox, host=args.host, port=args.port, logger_name=__name__, log_prefix=_LOG_PREFIX
    )
    logger.info("Stripe sandbox on http://%s:%s", args.host, server.server_port)
    serve_until_interrupted(server)
