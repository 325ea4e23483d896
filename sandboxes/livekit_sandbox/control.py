"""The sandbox's own routes under `/_sandbox/`, not LiveKit's, with no authentication: they
play the clients' part (someone joins or leaves a room, LiveKit ends a room), and show and
steer the webhooks (resend one, lose them all, send them synchronously)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from sandboxes._wsgi import Response, ResponseRoute, find_route, route
from sandboxes.livekit_sandbox.rooms import Rooms
from sandboxes.livekit_sandbox.twirp import Request, TwirpError, json_response


class Control(Rooms):
    """The `/_sandbox/` routes over the Python control methods."""

    _control_routes: list[ResponseRoute]

    def _build_control_routes(self) -> list[ResponseRoute]:
        room = r"/_sandbox/rooms/(?P<room>[^/]+)"
        return [
            route("GET", r"/_sandbox/rooms", self._ctl_rooms),
            route("POST", rf"{room}/join", self._ctl_join),
            route("POST", rf"{room}/leave", self._ctl_leave),
            route("POST", rf"{room}/finish", self._ctl_finish),
            route("POST", r"/_sandbox/connect", self._ctl_connect),
            route("POST", r"/_sandbox/expire", self._ctl_expire),
            route("GET", r"/_sandbox/events", self._ctl_events),
            route("POST", r"/_sandbox/events/(?P<event_id>EV_\w+)/resend", self._ctl_resend),
            route("GET", r"/_sandbox/webhooks", self._ctl_webhooks),
            route("POST", r"/_sandbox/webhooks", self._ctl_webhooks_update),
            route("POST", r"/_sandbox/reset", self._ctl_reset),
        ]

    def _handle_control(self, request: Request) -> Response:
        found = find_route(self._control_routes, request.method, request.path.rstrip("/"))
        if found is None:
            raise TwirpError("bad_route", f"no handler for {request.method} {request.path}")
        handler, groups = found
        return handler(request, **groups)

    @staticmethod
    def _text(data: dict[str, Any], name: str, *, required: bool = True) -> str:
        value = data.get(name, "")
        if not isinstance(value, str) or (required and not value):
            raise TwirpError("invalid_argument", f"{name} must be a non-empty string")
        return value

    def _ctl_rooms(self, request: Request) -> Response:
        return json_response(200, {"rooms": self.rooms()})

    def _ctl_join(self, request: Request, room: str) -> Response:
        data = request.json()
        identity = self._text(data, "identity")
        name = self._text(data, "name", required=False)
        return json_response(200, self.join(room, identity, name, at=self._at(data)))

    def _ctl_leave(self, request: Request, room: str) -> Response:
        data = request.json()
        return json_response(200, self.leave(room, self._text(data, "identity"), at=self._at(data)))

    @staticmethod
    def _at(data: dict[str, Any]) -> float | None:
        at = data.get("at")
        if at is not None and (isinstance(at, bool) or not isinstance(at, int | float)):
            raise TwirpError("invalid_argument", "at must be a unix time in seconds")
        return at

    def _ctl_finish(self, request: Request, room: str) -> Response:
        if not self.finish(room):
            raise TwirpError("not_found", "requested room does not exist")
        return json_response(200, {"finished": room})

    def _ctl_connect(self, request: Request) -> Response:
        return json_response(200, self.connect(self._text(request.json(), "token")))

    def _ctl_expire(self, request: Request) -> Response:
        now = request.json().get("now")
        if now is not None and not isinstance(now, int | float):
            raise TwirpError("invalid_argument", "now must be a unix time in seconds")
        return json_response(200, {"finished": self.expire_idle_rooms(now)})

    def _ctl_events(self, request: Request) -> Response:
        room = dict(parse_qsl(request.query)).get("room")
        events = self.events(room)
        deliveries = {event["id"]: self.deliveries(event["id"]) for event in events}
        return json_response(200, {"events": events, "deliveries": deliveries})

    def _ctl_resend(self, request: Request, event_id: str) -> Response:
        return json_response(200, self.resend_event(event_id))

    def _ctl_webhooks(self, request: Request) -> Response:
        return json_response(
            200,
            {
                "url": self.webhook_url,
                "host": self.webhook_host,
                "drop": self.drop_webhooks,
                "deliver_synchronously": self.deliver_synchronously,
            },
        )

    def _ctl_webhooks_update(self, request: Request) -> Response:
        data = request.json()
        for name in ("url", "host"):
            if name in data:
                value = data[name]
                if value is not None and not isinstance(value, str):
                    raise TwirpError("invalid_argument", f"{name} must be a string or null")
                setattr(self, f"webhook_{name}", value or None)
        for name, attribute in (("drop", "drop_webhooks"), ("sync", "deliver_synchronously")):
            if name in data:
                if not isinstance(data[name], bool):
                    raise TwirpError("invalid_argument", f"{name} must be true or false")
                setattr(self, attribute, data[name])
        return self._ctl_webhooks(request)

    def _ctl_reset(self, request: Request) -> Response:
        self.reset()
        return json_response(200, {})
