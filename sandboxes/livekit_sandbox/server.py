"""Running the sandbox: from a daemon thread (the tests) or as `python -m
sandboxes.livekit_sandbox` (the demo), which also closes idle rooms as LiveKit does."""

from __future__ import annotations

import logging
import threading
import time

from sandboxes._server import (
    ThreadingServer,
    argument_parser,
    build_server,
    serve_in_thread,
    serve_until_interrupted,
)
from sandboxes.livekit_sandbox.sandbox import LiveKitSandbox
from sandboxes.livekit_sandbox.state import DEFAULT_API_KEY, DEFAULT_API_SECRET

logger = logging.getLogger(__name__)
_LOG_PREFIX = "livekit sandbox: "


def serve(
    host: str = "127.0.0.1", port: int = 0, sandbox: LiveKitSandbox | None = None
) -> tuple[ThreadingServer, str]:
    """Serve `sandbox` (one with the development key if none is given) as `serve_in_thread`
    does: from a daemon thread, on a free port if `port` is 0; returns the server and its
    base URL."""
    return serve_in_thread(
        sandbox or LiveKitSandbox(),
        host=host,
        port=port,
        thread_name="livekit-sandbox",
        logger_name=__name__,
        log_prefix=_LOG_PREFIX,
    )


def _close_idle_rooms_forever(sandbox: LiveKitSandbox, interval: float) -> None:
    while True:
        time.sleep(interval)
        try:
            sandbox.expire_idle_rooms()
        except Exception:
            logger.exception("LiveKit sandbox could not close idle rooms")


def main(argv: list[str] | None = None) -> None:
    parser = argument_parser(
        "sandboxes.livekit_sandbox", "Run the local LiveKit sandbox.", port=7880
    )
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--api-secret", default=DEFAULT_API_SECRET, help="32 characters or more")
    parser.add_argument("--webhook-url", help="where to POST webhooks (none: only logged)")
    parser.add_argument("--webhook-host", help="Host header for webhooks (tenant routing)")
    parser.add_argument("--state-file", help="JSON file that keeps rooms and events")
    parser.add_argument(
        "--idle-check-seconds",
        type=float,
        default=1.0,
        help="how often rooms past their empty/departure timeout are closed (0: never)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        sandbox = LiveKitSandbox(
            args.api_key,
            args.api_secret,
            webhook_url=args.webhook_url,
            webhook_host=args.webhook_host,
            state_file=args.state_file,
        )
    except ValueError as error:
        parser.error(str(error))
    if args.idle_check_seconds > 0:
        threading.Thread(
            target=_close_idle_rooms_forever,
            args=(sandbox, args.idle_check_seconds),
            name="livekit-sandbox-idle-rooms",
            daemon=True,
        ).start()
    server, _ = build_server(
        sandbox, host=args.host, port=args.port, logger_name=__name__, log_prefix=_LOG_PREFIX
    )
    logger.info(
        "LiveKit sandbox on http://%s:%s (API key %s)", args.host, server.server_port, args.api_key
    )
    serve_until_interrupted(server)
