"""The sandbox's own routes under `/_sandbox/`, not Google's: they play the devices' and
Google's part (a token goes stale, FCM has an outage, a key is deleted) and show what was
sent and which access tokens were issued."""

from __future__ import annotations

from sandboxes._wsgi import Response
from sandboxes.fcm_sandbox.errors import ControlError
from sandboxes.fcm_sandbox.messaging import Messaging
from sandboxes.fcm_sandbox.oauth import OAuth
from sandboxes.fcm_sandbox.wire import Request, json_response


class Control(OAuth, Messaging):
    """`reset`, and the `/_sandbox/` routes over the Python control methods."""

    def reset(self) -> None:
        """Forget messages, grants, token states and pending failures; keep service accounts
        (and the access tokens issued to them)."""
        with self._lock:
            self._messages.clear()
            self._grants.clear()
            self._unregistered.clear()
            self._invalid.clear()
            self._failures_left = 0
            self._save()

    def _ctl_service_account_create(self, request: Request) -> Response:
        data = request.control_input()
        project_id = str(data.get("project_id") or "callrix-default")
        return json_response(
            200, self.create_service_account(project_id, base_url=request.base_url)
        )

    def _ctl_account_disable(self, request: Request, client_email: str) -> Response:
        self.disable_service_account(client_email)
        return json_response(200, {"client_email": client_email, "disabled": True})

    def _ctl_grants(self, request: Request) -> Response:
        return json_response(200, {"grants": self.grants(request.query_value("client_email"))})

    def _ctl_messages(self, request: Request) -> Response:
        found = self.messages(request.query_value("token"), request.query_value("project_id"))
        return json_response(200, {"messages": found})

    def _ctl_unregister(self, request: Request) -> Response:
        token = self._control_token(request)
        self.unregister(token)
        return json_response(200, {"token": token, "state": "unregistered"})

    def _ctl_invalidate(self, request: Request) -> Response:
        token = self._control_token(request)
        self.invalidate(token)
        return json_response(200, {"token": token, "state": "invalid"})

    def _ctl_fail_next(self, request: Request) -> Response:
        raw = request.control_input().get("n", 1)
        try:
            count = int(raw)
        except (TypeError, ValueError):
            raise ControlError(f"n must be an integer, not {raw!r}.") from None
        self.fail_next(count)
        return json_response(200, {"failing_next": count})

    def _ctl_reset(self, request: Request) -> Response:
        self.reset()
        return json_response(200, {"reset": True})

    @staticmethod
    def _control_token(request: Request) -> str:
        token = request.control_input().get("token")
        if not isinstance(token, str) or not token:
            raise ControlError("token is required.")
        return token
