"""The fake LiveKit server, put together: rooms and webhooks, the RoomService API and the
sandbox's control routes, as one WSGI application."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from sandboxes._server import DeliveryQueue
from sandboxes._wsgi import Response
from sandboxes.livekit_sandbox.control import Control
from sandboxes.livekit_sandbox.room_service import RoomService
from sandboxes.livekit_sandbox.state import DEFAULT_API_KEY, DEFAULT_API_SECRET
from sandboxes.livekit_sandbox.twirp import Request, TwirpError, json_response

logger = logging.getLogger(__name__)


class LiveKitSandbox(RoomService, Control):
    """The fake LiveKit server: a WSGI application holding its rooms in memory."""

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        api_secret: str = DEFAULT_API_SECRET,
        *,
        webhook_url: str | None = None,
        webhook_host: str | None = None,
        state_file: str | os.PathLike[str] | None = None,
    ):
        super().__init__(
            api_key,
            api_secret,
            webhook_url=webhook_url,
            webhook_host=webhook_host,
            state_file=state_file,
        )
        self._deliveries_out = DeliveryQueue(
            self._deliver, thread_name="livekit-sandbox-webhooks", label="LiveKit sandbox"
        )
        self._control_routes = self._build_control_routes()
        self._load()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        request = Request.from_environ(environ)
        try:
            if request.path.startswith("/_sandbox/"):
                response = self._handle_control(request)
            elif request.path.startswith("/twirp/"):
                response = self._handle_twirp(request)
            elif request.path == "/" and request.method == "GET":
                response = Response(200, b"OK", content_type="text/plain")  # as LiveKit's
            else:
                raise TwirpError("bad_route", f"no handler for path {request.path}")
        except TwirpError as error:
            response = json_response(error.status, error.body())
        except Exception:
            logger.exception("LiveKit sandbox failed on %s %s", request.method, request.path)
            response = json_response(500, TwirpError("internal", "sandbox failure").body())
        return response.send(start_response)
