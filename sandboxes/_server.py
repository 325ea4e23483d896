"""The HTTP plumbing the sandboxes share: a threaded WSGI server that logs requests at debug
level, a helper that serves an app from a daemon thread, the command line's serving loop, and
the sending of webhooks. Only the standard library is used: the product imports the sandboxes
at run time with its base dependencies only."""

from __future__ import annotations

import argparse
import logging
import socketserver
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

WEBHOOK_TIMEOUT_SECONDS = 10


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    """A WSGI server handling each request in a daemon thread; `shutdown()` also closes the
    socket, and `.sandbox` is the app it serves."""

    daemon_threads = True
    allow_reuse_address = True
    sandbox: Any = None

    def shutdown(self) -> None:
        super().shutdown()
        self.server_close()


class QuietHandler(WSGIRequestHandler):
    """Logs each request at debug level instead of writing it to stderr. Bind it to a logger
    with `QuietHandler.logging_to(logger_or_name, prefix)`."""

    logger: logging.Logger = logging.getLogger(__name__)
    log_prefix: str = ""

    def log_message(self, fmt: str, *args: Any) -> None:
        self.logger.debug(self.log_prefix + fmt, *args)

    @classmethod
    def logging_to(cls, logger: logging.Logger | str, prefix: str = "") -> type[QuietHandler]:
        if isinstance(logger, str):
            logger = logging.getLogger(logger)
        return type(cls.__name__, (cls,), {"logger": logger, "log_prefix": prefix})


def build_server(
    app: Any, *, host: str, port: int, logger_name: logging.Logger | str, log_prefix: str = ""
) -> tuple[ThreadingServer, str]:
    """Bind `app` on host:port (0 picks a free port) without serving it yet. Returns the
    server (`.sandbox` is the app) and its base URL."""
    server = make_server(
        host,
        port,
        app,
        server_class=ThreadingServer,
        handler_class=QuietHandler.logging_to(logger_name, log_prefix),
    )
    server.sandbox = app
    return server, f"http://{host}:{server.server_port}"


def serve_in_thread(
    app: Any,
    *,
    host: str,
    port: int,
    thread_name: str,
    logger_name: logging.Logger | str,
    log_prefix: str = "",
) -> tuple[ThreadingServer, str]:
    """Serve `app` from a daemon thread; port 0 picks a free port. Returns the server
    (`.shutdown()` stops it, `.sandbox` is the app) and its base URL."""
    server, base_url = build_server(
        app, host=host, port=port, logger_name=logger_name, log_prefix=log_prefix
    )
    threading.Thread(target=server.serve_forever, name=thread_name, daemon=True).start()
    return server, base_url


def argument_parser(module: str, description: str, *, port: int) -> argparse.ArgumentParser:
    """The command line of `python -m <module>`, with the address it listens on."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    return parser


def serve_until_interrupted(server: ThreadingServer) -> None:
    """Serve from this thread until Ctrl-C, then close the socket."""
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post_webhook(
    url: str, body: bytes, headers: dict[str, str], *, host: str | None, label: str
) -> dict[str, Any]:
    """POST one signed event, never through a proxy; returns the attempt: url, attempted_at,
    status (None when unreachable) and error."""
    if host:
        headers = {**headers, "Host": host}  # the receiver routes tenants by host, as in production
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    attempt: dict[str, Any] = {
        "url": url,
        "attempted_at": int(time.time()),
        "status": None,
        "error": None,
    }
    try:
        with _NO_PROXY_OPENER.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as reply:
            attempt["status"] = reply.status
    except urllib.error.HTTPError as error:
        attempt.update(status=error.code, error=f"HTTP {error.code}")
    except OSError as error:
        attempt["error"] = str(error)
    if attempt["error"]:
        logging.getLogger(__name__).warning(
            "%s webhook to %s failed: %s", label, url, attempt["error"]
        )
    return attempt


class DeliveryQueue:
    """Sends webhooks from one background thread, so the request that caused an event never
    waits on the receiver (which may well call back into the sandbox)."""

    def __init__(self, deliver: Callable[[str], Any], *, thread_name: str, label: str) -> None:
        self._deliver = deliver
        self._thread_name = thread_name
        self._label = label
        self._queue: list[str] = []
        self._wakeup = threading.Condition()
        self._in_flight = 0
        self._thread: threading.Thread | None = None

    def submit(self, event_id: str) -> None:
        with self._wakeup:
            self._queue.append(event_id)
            self._in_flight += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name=self._thread_name, daemon=True
                )
                self._thread.start()
            self._wakeup.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is queued or being sent; False if not within `timeout`."""
        with self._wakeup:
            return self._wakeup.wait_for(lambda: self._in_flight == 0, timeout)

    def _loop(self) -> None:
        while True:
            with self._wakeup:
                self._wakeup.wait_for(lambda: self._queue)
                event_id = self._queue.pop(0)
            try:
                self._deliver(event_id)
            except Exception:
                logging.getLogger(__name__).exception(
                    "%s could not deliver %s", self._label, event_id
                )
            finally:
                with self._wakeup:
                    self._in_flight -= 1
                    self._wakeup.notify_all()


class WebhookSender:
    """What the sandboxes that send webhooks share: the events a change queues in `_outbox`
    under the sandbox's lock are sent once the lock is released, from the background thread
    or, with `deliver_synchronously`, at once. The sandbox provides `_deliver(event_id)`."""

    deliver_synchronously: bool
    _lock: threading.Lock
    _outbox: list[str]
    _deliveries_out: DeliveryQueue
    # Each sandbox's own delivery (signing and posting one stored event); declared here so
    # the mixin's callers type-check, provided by the sandbox class.
    _deliver: Callable[[str], dict[str, Any]]

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """Block until the background sender is idle; False if it did not get there in time."""
        return self._deliveries_out.wait_idle(timeout)

    def _send_outbox(self) -> None:
        with self._lock:
            event_ids, self._outbox = self._outbox, []
        for event_id in event_ids:
            if self.deliver_synchronously:
                self._deliver(event_id)
            else:
                self._deliveries_out.submit(event_id)
