"""FCM HTTP v1's `messages:send` (`POST /v1/projects/{project_id}/messages:send`): it
requires an access token from the token endpoint, checks the message much as FCM does,
records what it accepts and answers FCM's own error bodies, so the SDK raises
`UnregisteredError`, `InvalidArgumentError`, …. Also what devices and Google do to it: a token
goes stale, FCM has an outage."""

from __future__ import annotations

import copy
import json
import secrets
import time
from typing import Any

from sandboxes._wsgi import Response
from sandboxes.fcm_sandbox.errors import ControlError, FcmApiError, bad_json, invalid
from sandboxes.fcm_sandbox.message_checks import check_send_request, device
from sandboxes.fcm_sandbox.state import AccessToken, FcmState
from sandboxes.fcm_sandbox.wire import Request, json_response

# Either scope lets an access token send FCM messages.
FCM_SCOPES = (
    "https://www.googleapis.com/auth/firebase.messaging",
    "https://www.googleapis.com/auth/cloud-platform",
)

UNAUTHENTICATED_MESSAGE = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
BAD_CREDENTIALS_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)


class Messaging(FcmState):
    """The send API, and what devices and Google do to it."""

    def _send(self, request: Request, project_id: str) -> Response:
        with self._lock:
            caller = self._caller(request, project_id)
            if self._failures_left > 0:
                self._failures_left -= 1
                raise FcmApiError(
                    503,
                    "The service is currently unavailable.",
                    status="UNAVAILABLE",
                    fcm_code="UNAVAILABLE",
                )
            try:
                body = json.loads(request.body or b"null")
            except ValueError:
                raise bad_json("Invalid JSON payload received. Unexpected token.", "") from None
            message, validate_only = check_send_request(body)
            self._check_token(device(message))
            if validate_only:
                return json_response(
                    200, {"name": f"projects/{project_id}/messages/fake_message_id"}
                )
            message_id = f"0:{time.time_ns() // 1000}%{secrets.token_hex(8)}"
            name = f"projects/{project_id}/messages/{message_id}"
            self._messages.append(
                {
                    "id": message_id,
                    "name": name,
                    "project_id": project_id,
                    "client_email": caller.client_email,
                    "received_at": time.time(),
                    "message": copy.deepcopy(message),
                }
            )
            self._save()
        return json_response(200, {"name": name})

    def _caller(self, request: Request, project_id: str) -> AccessToken:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise FcmApiError(401, UNAUTHENTICATED_MESSAGE, status="UNAUTHENTICATED")
        token = self._access_tokens.get(credential.strip())
        if token is None or token.expires_at < time.time():
            raise FcmApiError(401, BAD_CREDENTIALS_MESSAGE, status="UNAUTHENTICATED")
        if not set(token.scopes) & set(FCM_SCOPES):
            raise FcmApiError(
                403, "Request had insufficient authentication scopes.", status="PERMISSION_DENIED"
            )
        if token.project_id != project_id:
            raise FcmApiError(
                403,
                f"Permission 'cloudmessaging.messages.create' denied on resource "
                f"'//cloudresourcemanager.googleapis.com/projects/{project_id}' "
                "(or it may not exist).",
                status="PERMISSION_DENIED",
            )
        return token

    def _check_token(self, token: str | None) -> None:
        if not token:
            return
        if token in self._invalid:
            raise invalid(
                "The registration token is not a valid FCM registration token", "message.token"
            )
        if token in self._unregistered:
            raise FcmApiError(
                404, "Requested entity was not found.", status="NOT_FOUND", fcm_code="UNREGISTERED"
            )

    def messages(
        self, token: str | None = None, project_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every accepted message, oldest first: `{id, name, project_id, client_email,
        received_at, message}` where `message` is the body FCM received. `token` matches a
        message's `token` or `fid` target."""
        with self._lock:
            return [
                copy.deepcopy(record)
                for record in self._messages
                if (token is None or device(record["message"]) == token)
                and (project_id is None or record["project_id"] == project_id)
            ]

    def unregister(self, token: str) -> None:
        """The app was uninstalled: sends to `token` (or that `fid`) answer 404 UNREGISTERED
        from now on."""
        with self._lock:
            self._unregistered.add(token)
            self._save()

    def invalidate(self, token: str) -> None:
        """`token` is not a registration token at all: sends answer 400 INVALID_ARGUMENT."""
        with self._lock:
            self._invalid.add(token)
            self._save()

    def fail_next(self, n: int = 1) -> None:
        """The next `n` sends (any project) answer 503 UNAVAILABLE."""
        if n < 0:
            raise ControlError("n must not be negative.")
        with self._lock:
            self._failures_left = n
