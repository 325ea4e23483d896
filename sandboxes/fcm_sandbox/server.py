"""Running the sandbox: from a daemon thread (the tests) or as `python -m
sandboxes.fcm_sandbox` (the demo). Either way the sandbox learns its own address, which the
service accounts it issues name as their `token_uri`."""

from __future__ import annotations

import json
import logging

from sandboxes._server import (
    ThreadingServer,
    argument_parser,
    build_server,
    serve_in_thread,
    serve_until_interrupted,
)
from sandboxes.fcm_sandbox.sandbox import FcmSandbox

logger = logging.getLogger(__name__)

_LOG_PREFIX = "fcm sandbox: "


def _server(host: str, port: int, sandbox: FcmSandbox) -> tuple[ThreadingServer, str]:
    server, base_url = build_server(
        sandbox, host=host, port=port, logger_name=__name__, log_prefix=_LOG_PREFIX
    )
    if sandbox.base_url is None:
        sandbox.base_url = base_url
    return server, base_url


def serve(
    host: str = "127.0.0.1", port: int = 0, sandbox: FcmSandbox | None = None
) -> tuple[ThreadingServer, str]:
    """Serve `sandbox` (a new one if none is given) as `serve_in_thread` does, and tell it its
    address, which the service accounts it issues name as their `token_uri`."""
    app = sandbox or FcmSandbox()
    server, base_url = serve_in_thread(
        app,
        host=host,
        port=port,
        thread_name="fcm-sandbox",
        logger_name=__name__,
        log_prefix=_LOG_PREFIX,
    )
    if app.base_url is None:
        app.base_url = base_url
    return server, base_url


def main(argv: list[str] | None = None) -> None:
    parser = argument_parser("sandboxes.fcm_sandbox", "Run the local FCM sandbox.", port=8020)
    parser.add_argument("--state-file", help="JSON file that keeps accounts across restarts")
    parser.add_argument(
        "--print-service-account",
        metavar="PROJECT_ID",
        help="create a service account for this project and print its JSON",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server, base_url = _server(args.host, args.port, FcmSandbox(state_file=args.state_file))
    if args.print_service_account:
        print(json.dumps(server.sandbox.create_service_account(args.print_service_account)))
    logger.info("FCM sandbox on %s (FCM_API_BASE=%s)", base_url, base_url)
    serve_until_interrupted(server)
