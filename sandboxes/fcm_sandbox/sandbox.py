"""The fake Google token endpoint and FCM, put together with the sandbox's control routes
as one WSGI application."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from sandboxes._wsgi import Response, ResponseRoute, route
from sandboxes.fcm_sandbox.control import Control
from sandboxes.fcm_sandbox.errors import ControlError, FcmApiError, OAuthError
from sandboxes.fcm_sandbox.wire import Request, json_response

logger = logging.getLogger(__name__)


class FcmSandbox(Control):
    """The fake Google token endpoint and FCM: a WSGI application holding its state in memory
    (and, when given a state file, its service accounts and messages across restarts)."""

    def __init__(self, state_file: str | os.PathLike[str] | None = None):
        super().__init__(state_file)
        self._routes = self._build_routes()
        self._load()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        request = Request.from_environ(environ)
        try:
            response = self._dispatch(request)
        except FcmApiError as error:
            response = json_response(error.http_status, error.body())
        except OAuthError as error:
            response = json_response(
                error.http_status, error.body(), [("Cache-Control", "no-store")]
            )
        except ControlError as error:
            response = json_response(error.http_status, {"error": error.message})
        except Exception:
            logger.exception("FCM sandbox failed on %s %s", request.method, request.path)
            failure = FcmApiError(500, "Internal error encountered.", status="INTERNAL")
            response = json_response(500, failure.body())
        return response.send(start_response)

    def _build_routes(self) -> list[ResponseRoute]:
        control = "/_sandbox"
        email = r"(?P<client_email>[^/]+)"
        return [
            route("POST", r"/token", self._token),
            route("POST", r"/v1/projects/(?P<project_id>[^/]+)/messages:send", self._send),
            route("POST", rf"{control}/service-accounts", self._ctl_service_account_create),
            route(
                "POST", rf"{control}/service-accounts/{email}/disable", self._ctl_account_disable
            ),
            route("GET", rf"{control}/grants", self._ctl_grants),
            route("GET", rf"{control}/messages", self._ctl_messages),
            route("POST", rf"{control}/unregister", self._ctl_unregister),
            route("POST", rf"{control}/invalidate", self._ctl_invalidate),
            route("POST", rf"{control}/fail-next", self._ctl_fail_next),
            route("POST", rf"{control}/reset", self._ctl_reset),
        ]

    def _dispatch(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        for method, pattern, handler in self._routes:
            found = pattern.fullmatch(path)
            if found is not None and method == request.method:
                return handler(request, **found.groupdict())
        if path.startswith("/_sandbox/"):
            raise ControlError(f"Unknown sandbox route: {request.method} {path}", 404)
        raise FcmApiError(
            404,
            f"The requested URL {path} was not found for {request.method}.",
            status="NOT_FOUND",
        )
