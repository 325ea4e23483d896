"""A local, stateful fake of the LiveKit server for the tests and the offline demo.

It answers LiveKit's RoomService Twirp API (`POST /twirp/livekit.RoomService/<Method>`, in
protobuf as the official `livekit-api` client sends it, or JSON as `curl` does), checks the
`Authorization: Bearer <JWT>` on every call (HS256 with the API secret, `iss` the API key, and
the video grants LiveKit asks for: `roomCreate`, `roomList`, `roomAdmin` for that room), and
sends webhooks exactly as LiveKit does: the JSON of a `livekit.WebhookEvent`, content type
`application/webhook+json`, and `Authorization: <JWT>` whose `sha256` claim is the base64
SHA-256 of the body. Besides the standard library it uses only `livekit-api`, a base
dependency of the product, for the protobuf classes and the token code.

    sandbox = LiveKitSandbox(webhook_url="http://127.0.0.1:8000/webhooks/livekit")
    server, base_url = serve(sandbox=sandbox)
    lkapi = api.LiveKitAPI(base_url, sandbox.api_key, sandbox.api_secret)

Media is not carried: routes under `/_sandbox/` play the clients' part instead (someone joins
or leaves a room, LiveKit ends a room, webhooks get lost), with no authentication.
"""

from __future__ import annotations

import argparse
import base64
import copy
import datetime
import hashlib
import http
import json
import logging
import os
import re
import secrets
import string
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from livekit import api
from livekit.protocol import models
from livekit.protocol import room as room_pb
from livekit.protocol.webhook import WebhookEvent

from sandboxes._server import DeliveryQueue, ThreadingServer, build_server, serve_in_thread

logger = logging.getLogger(__name__)

DEFAULT_API_KEY = "devkey"
# PyJWT warns about HMAC keys shorter than 32 bytes, so the development secret is longer
# than livekit-server's own `--dev` one ("secret"). The product's development default matches.
DEFAULT_API_SECRET = "callrix-dev-livekit-secret-not-for-production"
SERVICE_PATH = "/twirp/livekit.RoomService/"
PROTOBUF = "application/protobuf"
JSON = "application/json"
# LiveKit's room defaults when CreateRoom leaves them at zero.
DEFAULT_EMPTY_TIMEOUT_SECONDS = 300
DEFAULT_DEPARTURE_TIMEOUT_SECONDS = 20
MAX_ROOM_NAME_LENGTH = 256
# LiveKit signs each webhook with a token valid for five minutes.
WEBHOOK_TOKEN_TTL = datetime.timedelta(minutes=5)
WEBHOOK_TIMEOUT_SECONDS = 10

# Twirp's error codes and the HTTP status each is answered with.
TWIRP_STATUS = {
    "canceled": 408,
    "unknown": 500,
    "invalid_argument": 400,
    "malformed": 400,
    "deadline_exceeded": 408,
    "not_found": 404,
    "bad_route": 404,
    "already_exists": 409,
    "permission_denied": 403,
    "unauthenticated": 401,
    "resource_exhausted": 429,
    "failed_precondition": 412,
    "aborted": 409,
    "out_of_range": 400,
    "unimplemented": 501,
    "internal": 500,
    "unavailable": 503,
    "dataloss": 500,
}


class TwirpError(Exception):
    """An error answered in Twirp's JSON shape (`{"code", "msg", "meta"}`), which the client
    raises as `api.TwirpError` with that code and the HTTP status."""

    def __init__(self, code: str, msg: str, meta: dict[str, str] | None = None):
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.meta = meta or {}

    @property
    def status(self) -> int:
        return TWIRP_STATUS[self.code]

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.meta:
            body["meta"] = self.meta
        return body


def _permission_denied() -> TwirpError:
    # LiveKit answers a missing grant with `unauthenticated`, not `permission_denied`.
    return TwirpError("unauthenticated", "permissions denied")


# ---------------------------------------------------------------------------------------------
# Ids, time and signatures


_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """LiveKit's ids: `RM_` rooms, `PA_` participants, `EV_` webhook events."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(12))


def _now() -> float:
    return time.time()


def webhook_body(event: WebhookEvent) -> bytes:
    """The bytes LiveKit posts for an event: protobuf's canonical JSON (camelCase names,
    int64 as strings, unset fields left out)."""
    return json_format.MessageToJson(event, indent=None, ensure_ascii=False).encode()


def webhook_authorization(body: bytes, api_key: str, api_secret: str) -> str:
    """The `Authorization` value for a webhook body (a bare JWT, no `Bearer`)."""
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    token = api.AccessToken(api_key, api_secret).with_ttl(WEBHOOK_TOKEN_TTL).with_sha256(digest)
    return token.to_jwt()


def _message_dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message)


# ---------------------------------------------------------------------------------------------
# HTTP plumbing


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        # WSGI hands the path over as latin-1; room names are UTF-8.
        raw_path = environ.get("PATH_INFO") or "/"
        try:
            path = raw_path.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            path = raw_path
        return cls(
            method=environ["REQUEST_METHOD"].upper(),
            path=path,
            query=environ.get("QUERY_STRING", ""),
            headers=headers,
            body=body,
        )

    @property
    def media_type(self) -> str:
        return self.headers["content-type"].split(";")[0].strip().lower()

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        try:
            data = json.loads(self.body)
        except ValueError:
            raise TwirpError("malformed", "the request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise TwirpError("malformed", "the request body must be a JSON object")
        return data


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = JSON

    @property
    def status_line(self) -> str:
        return f"{self.status} {http.HTTPStatus(self.status).phrase}"

    def wsgi_headers(self) -> list[tuple[str, str]]:
        return [("Content-Type", self.content_type), ("Content-Length", str(len(self.body)))]


def json_response(status: int, data: Any) -> Response:
    return Response(status, json.dumps(data, indent=2, ensure_ascii=False).encode())


Route = tuple[str, re.Pattern[str], Callable[..., Response]]


def _route(method: str, pattern: str, handler: Callable[..., Response]) -> Route:
    return method, re.compile(pattern + "$"), handler


# ---------------------------------------------------------------------------------------------
# State


@dataclass
class LiveRoom:
    """One open room: LiveKit's `Room` and the participants connected to it."""

    info: models.Room
    participants: dict[str, models.ParticipantInfo] = field(default_factory=dict)
    # When the room last became empty; None while occupied or if nobody ever joined.
    emptied_at: float | None = None

    def snapshot(self) -> models.Room:
        info = models.Room()
        info.CopyFrom(self.info)
        info.num_participants = len(self.participants)
        return info

    def to_state(self) -> dict[str, Any]:
        return {
            "info": _message_dict(self.info),
            "participants": [_message_dict(p) for p in self.participants.values()],
            "emptied_at": self.emptied_at,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LiveRoom:
        participants = [
            json_format.ParseDict(p, models.ParticipantInfo()) for p in state["participants"]
        ]
        return cls(
            info=json_format.ParseDict(state["info"], models.Room()),
            participants={p.identity: p for p in participants},
            emptied_at=state["emptied_at"],
        )


# Twirp method -> (request class, handler name, required grant)
_METHODS: dict[str, tuple[type[Message], str, str]] = {
    "CreateRoom": (room_pb.CreateRoomRequest, "_rpc_create_room", "create"),
    "ListRooms": (room_pb.ListRoomsRequest, "_rpc_list_rooms", "list"),
    "DeleteRoom": (room_pb.DeleteRoomRequest, "_rpc_delete_room", "create"),
    "ListParticipants": (room_pb.ListParticipantsRequest, "_rpc_list_participants", "admin"),
    "GetParticipant": (room_pb.RoomParticipantIdentity, "_rpc_get_participant", "admin"),
    "RemoveParticipant": (room_pb.RoomParticipantIdentity, "_rpc_remove_participant", "admin"),
    "SendData": (room_pb.SendDataRequest, "_rpc_send_data", "admin"),
}


class LiveKitSandbox:
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
        if len(api_secret) < 32:
            raise ValueError("The API secret must be at least 32 characters long.")
        self.api_key = api_key
        self.api_secret = api_secret
        self.webhook_url = webhook_url
        self.webhook_host = webhook_host  # sent as the Host header: the receiver routes by it
        self.deliver_synchronously = False
        # LiveKit's webhooks are best effort; this loses every event until turned off again.
        self.drop_webhooks = False
        self._verifier = api.TokenVerifier(api_key, api_secret)
        self._state_file = Path(state_file) if state_file else None
        # One lock for all state; webhooks are sent only after it is released (a receiver
        # may call back into us).
        self._lock = threading.Lock()
        self._rooms: dict[str, LiveRoom] = {}
        self._events: list[WebhookEvent] = []
        self._data_packets: list[dict[str, Any]] = []
        self._deliveries: dict[str, list[dict[str, Any]]] = {}
        self._dropped_since_last_send = 0
        self._outbox: list[str] = []
        self._deliveries_out = DeliveryQueue(
            self._deliver, thread_name="livekit-sandbox-webhooks", label="LiveKit sandbox"
        )
        self._control_routes = self._build_control_routes()
        self._load()

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
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
        start_response(response.status_line, response.wsgi_headers())
        return [response.body]

    # -- RoomService (Twirp) -------------------------------------------------------------------

    def _handle_twirp(self, request: Request) -> Response:
        # LiveKit's auth middleware runs first: a present but bad token is refused before
        # routing; a missing one is refused by the method's grant check.
        claims = self._claims(request)
        if request.method != "POST":
            raise TwirpError(
                "bad_route", f"unsupported method {request.method} (only POST is allowed)"
            )
        method = request.path.removeprefix(SERVICE_PATH)
        if not request.path.startswith(SERVICE_PATH) or method not in _METHODS:
            raise TwirpError("bad_route", f"no handler for path {request.path}")
        if request.media_type not in (PROTOBUF, JSON):
            raise TwirpError(
                "bad_route", f"unexpected Content-Type: {request.headers['content-type']!r}"
            )
        request_class, handler_name, grant = _METHODS[method]
        message = self._parse(request, request_class)
        self._check_grant(claims, grant, getattr(message, "room", ""))
        with self._transaction():
            reply = getattr(self, handler_name)(message)
            if request.media_type == PROTOBUF:
                return Response(200, reply.SerializeToString(), content_type=PROTOBUF)
            # Twirp's JSON: proto field names, unset fields included.
            text = json_format.MessageToJson(
                reply,
                preserving_proto_field_name=True,
                always_print_fields_with_no_presence=True,
                ensure_ascii=False,
            )
            return Response(200, text.encode())

    def _claims(self, request: Request) -> api.access_token.Claims | None:
        header = request.headers.get("authorization", "")
        if not header:
            return None
        if not header.startswith("Bearer "):
            raise TwirpError(
                "unauthenticated", "invalid authorization header. Must start with Bearer "
            )
        try:
            return self._verifier.verify(header.removeprefix("Bearer ").strip())
        except Exception as error:  # PyJWT's errors: signature, issuer, expiry, format
            raise TwirpError("unauthenticated", f"invalid token: {error}") from None

    @staticmethod
    def _parse(request: Request, request_class: type[Message]) -> Message:
        message = request_class()
        try:
            if request.media_type == PROTOBUF:
                message.ParseFromString(request.body)
            else:
                json_format.Parse(request.body or b"{}", message, ignore_unknown_fields=True)
        except (DecodeError, json_format.ParseError, UnicodeDecodeError) as error:
            raise TwirpError(
                "malformed", f"the request body could not be decoded: {error}"
            ) from None
        return message

    @staticmethod
    def _check_grant(claims: api.access_token.Claims | None, grant: str, room: str) -> None:
        video = claims.video if claims else None
        if video is None:
            raise _permission_denied()
        allowed = {
            "create": bool(video.room_create),
            "list": bool(video.room_list),
            "admin": bool(video.room_admin) and video.room == room,
        }[grant]
        if not allowed:
            raise _permission_denied()

    def _rpc_create_room(self, request: room_pb.CreateRoomRequest) -> models.Room:
        if not request.name:
            raise TwirpError("invalid_argument", "no room name")
        if len(request.name) > MAX_ROOM_NAME_LENGTH:
            raise TwirpError("invalid_argument", "room name length exceeds limits")
        live = self._rooms.get(request.name)
        if live is None:
            live = self._open_room(
                request.name,
                empty_timeout=request.empty_timeout,
                departure_timeout=request.departure_timeout,
                max_participants=request.max_participants,
                metadata=request.metadata,
            )
        else:
            # LiveKit returns the open room, taking any new settings that were given.
            for name in ("empty_timeout", "departure_timeout", "max_participants", "metadata"):
                if getattr(request, name):
                    setattr(live.info, name, getattr(request, name))
        return live.snapshot()

    def _rpc_list_rooms(self, request: room_pb.ListRoomsRequest) -> room_pb.ListRoomsResponse:
        names = set(request.names)
        rooms = [
            live.snapshot() for name, live in self._rooms.items() if not names or name in names
        ]
        return room_pb.ListRoomsResponse(rooms=rooms)

    def _rpc_delete_room(self, request: room_pb.DeleteRoomRequest) -> room_pb.DeleteRoomResponse:
        if request.room not in self._rooms:
            raise TwirpError("not_found", "requested room does not exist")
        self._close_room(request.room, models.RoomEndReason.ROOM_END_API_DELETE)
        return room_pb.DeleteRoomResponse()

    def _rpc_list_participants(
        self, request: room_pb.ListParticipantsRequest
    ) -> room_pb.ListParticipantsResponse:
        # As LiveKit: a room that does not exist simply has no participants.
        live = self._rooms.get(request.room)
        participants = list(live.participants.values()) if live else []
        return room_pb.ListParticipantsResponse(participants=participants)

    def _rpc_get_participant(
        self, request: room_pb.RoomParticipantIdentity
    ) -> models.ParticipantInfo:
        live = self._rooms.get(request.room)
        if live is None or request.identity not in live.participants:
            raise TwirpError("not_found", "participant does not exist")
        return live.participants[request.identity]

    def _rpc_remove_participant(
        self, request: room_pb.RoomParticipantIdentity
    ) -> room_pb.RemoveParticipantResponse:
        live = self._rooms.get(request.room)
        if live is None or request.identity not in live.participants:
            raise TwirpError("not_found", "participant not found")
        self._disconnect(live, request.identity, models.DisconnectReason.PARTICIPANT_REMOVED)
        return room_pb.RemoveParticipantResponse()

    def _rpc_send_data(self, request: room_pb.SendDataRequest) -> room_pb.SendDataResponse:
        """A server-sent data packet: kept, as the clients in the room would receive it."""
        if request.room not in self._rooms:
            raise TwirpError("not_found", "requested room does not exist")
        self._data_packets.append(
            {
                "room": request.room,
                "topic": request.topic,
                "destination_identities": list(request.destination_identities),
                "data": request.data.decode("utf-8", errors="replace"),
            }
        )
        return room_pb.SendDataResponse()

    def data_packets(self, room: str | None = None) -> list[dict[str, Any]]:
        """The data packets the server sent, oldest first."""
        with self._lock:
            return [dict(p) for p in self._data_packets if room is None or p["room"] == room]

    # -- Sandbox control: Python ---------------------------------------------------------------

    def join(
        self,
        room: str,
        identity: str,
        name: str = "",
        *,
        permission: models.ParticipantPermission | None = None,
        at: float | None = None,
    ) -> dict[str, Any]:
        """A client connects to a room (LiveKit opens it if it is not open yet). A second
        connection with the same identity replaces the first, as in LiveKit. `at` (unix
        seconds) dates the join in the past, to play a talk of some length at once."""
        if not room or not identity:
            raise TwirpError("invalid_argument", "room and identity are required")
        with self._transaction():
            live = self._rooms.get(room) or self._open_room(room)
            others = len(live.participants) - (identity in live.participants)
            if live.info.max_participants and others >= live.info.max_participants:
                raise TwirpError("resource_exhausted", "room is full")
            if identity in live.participants:
                self._disconnect(live, identity, models.DisconnectReason.DUPLICATE_IDENTITY)
            now = _now() if at is None else at
            participant = models.ParticipantInfo(
                sid=new_id("PA_"),
                identity=identity,
                name=name,
                state=models.ParticipantInfo.State.ACTIVE,
                joined_at=int(now),
                joined_at_ms=int(now * 1000),
                kind=models.ParticipantInfo.Kind.STANDARD,
                permission=permission
                or models.ParticipantPermission(
                    can_subscribe=True, can_publish=True, can_publish_data=True
                ),
            )
            live.participants[identity] = participant
            live.emptied_at = None
            self._emit("participant_joined", live, participant=participant, at=at)
            return _message_dict(participant)

    def connect(self, token: str) -> dict[str, Any]:
        """A client connects with an access token, checked as LiveKit's signalling endpoint
        does: signed by our key, a `roomJoin` grant, and the room and identity it names."""
        try:
            claims = self._verifier.verify(token)
        except Exception as error:  # PyJWT's errors: signature, issuer, expiry, format
            raise TwirpError("unauthenticated", f"invalid token: {error}") from None
        video = claims.video
        if video is None or not video.room_join or not video.room or not claims.identity:
            raise _permission_denied()
        try:
            permission = models.ParticipantPermission(
                can_subscribe=bool(video.can_subscribe),
                can_publish=bool(video.can_publish),
                can_publish_data=bool(video.can_publish_data),
                can_publish_sources=[source.upper() for source in video.can_publish_sources or []],
                hidden=bool(video.hidden),
            )
        except ValueError:  # a track source LiveKit does not know
            raise TwirpError("invalid_argument", "invalid canPublishSources") from None
        return self.join(video.room, claims.identity, claims.name, permission=permission)

    def leave(self, room: str, identity: str, *, at: float | None = None) -> dict[str, Any]:
        """A client disconnects by itself (`at`: as for join)."""
        with self._transaction():
            live = self._rooms.get(room)
            if live is None or identity not in live.participants:
                raise TwirpError("not_found", "participant not found")
            participant = self._disconnect(
                live, identity, models.DisconnectReason.CLIENT_INITIATED, at=at
            )
            return _message_dict(participant)

    def finish(self, room: str) -> bool:
        """LiveKit ends a room as DeleteRoom does; False when no such room is open."""
        with self._transaction():
            if room not in self._rooms:
                return False
            self._close_room(room, models.RoomEndReason.ROOM_END_API_DELETE)
            return True

    def expire_idle_rooms(self, now: float | None = None) -> list[str]:
        """Close the rooms LiveKit would close by now: never joined for `empty_timeout`
        seconds after creation, or empty for `departure_timeout` seconds after the last
        participant left. Returns their names."""
        now = _now() if now is None else now
        with self._transaction():
            expired = [
                name
                for name, live in self._rooms.items()
                if not live.participants and now >= self._idle_deadline(live)
            ]
            for name in expired:
                self._close_room(name, models.RoomEndReason.ROOM_END_IDLE_TIMEOUT)
            return expired

    def rooms(self) -> list[dict[str, Any]]:
        """The open rooms as LiveKit describes them, each with its participants' identities."""
        with self._lock:
            return [
                {**_message_dict(live.snapshot()), "participants": list(live.participants)}
                for live in self._rooms.values()
            ]

    def participants(self, room: str) -> list[str] | None:
        """The identities connected to a room; None when it is not open."""
        with self._lock:
            live = self._rooms.get(room)
            return None if live is None else list(live.participants)

    def events(self, room: str | None = None) -> list[dict[str, Any]]:
        """Every webhook event so far, oldest first, as the JSON LiveKit sends."""
        with self._lock:
            return [
                _message_dict(event)
                for event in self._events
                if room is None or event.room.name == room
            ]

    def deliveries(self, event_id: str) -> list[dict[str, Any]]:
        """Each attempt to deliver an event: url, status (None when unreachable or dropped),
        error, dropped."""
        with self._lock:
            return copy.deepcopy(self._deliveries.get(event_id, []))

    def signed_event(self, event: str | WebhookEvent | dict[str, Any]) -> tuple[bytes, str]:
        """The body and `Authorization` value of a webhook, for posting it by hand: `event`
        is an event id from the log, a `WebhookEvent`, or its JSON as a dict."""
        if isinstance(event, str):
            with self._lock:
                message = self._event(event)
        elif isinstance(event, dict):
            message = json_format.ParseDict(event, WebhookEvent())
        else:
            message = event
        body = webhook_body(message)
        return body, webhook_authorization(body, self.api_key, self.api_secret)

    def resend_event(self, event_id: str) -> dict[str, Any]:
        """Deliver a logged event again, now (receivers must expect duplicates)."""
        with self._lock:
            self._event(event_id)
        if not self.webhook_url:
            raise TwirpError("failed_precondition", "no webhook URL is configured")
        return self._deliver(event_id)

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """Block until the background sender is idle; False if it did not get there in time."""
        return self._deliveries_out.wait_idle(timeout)

    def reset(self) -> None:
        """Forget every room and event (the webhook settings stay)."""
        with self._transaction():
            self._rooms.clear()
            self._events.clear()
            self._deliveries.clear()
            self._outbox.clear()
            self._dropped_since_last_send = 0

    # -- Sandbox control: HTTP -----------------------------------------------------------------

    def _build_control_routes(self) -> list[Route]:
        room = r"/_sandbox/rooms/(?P<room>[^/]+)"
        return [
            _route("GET", r"/_sandbox/rooms", self._ctl_rooms),
            _route("POST", rf"{room}/join", self._ctl_join),
            _route("POST", rf"{room}/leave", self._ctl_leave),
            _route("POST", rf"{room}/finish", self._ctl_finish),
            _route("POST", r"/_sandbox/connect", self._ctl_connect),
            _route("POST", r"/_sandbox/expire", self._ctl_expire),
            _route("GET", r"/_sandbox/events", self._ctl_events),
            _route("POST", r"/_sandbox/events/(?P<event_id>EV_\w+)/resend", self._ctl_resend),
            _route("GET", r"/_sandbox/webhooks", self._ctl_webhooks),
            _route("POST", r"/_sandbox/webhooks", self._ctl_webhooks_update),
            _route("POST", r"/_sandbox/reset", self._ctl_reset),
        ]

    def _handle_control(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        for method, pattern, handler in self._control_routes:
            found = pattern.match(path)
            if found and method == request.method:
                return handler(request, **found.groupdict())
        raise TwirpError("bad_route", f"no handler for {request.method} {request.path}")

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

    # -- State ---------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """Run under the lock, persist, then hand new events to the webhook sender."""
        try:
            with self._lock:
                try:
                    yield
                finally:
                    self._save()
        finally:
            self._send_outbox()

    def _open_room(
        self,
        name: str,
        *,
        empty_timeout: int = 0,
        departure_timeout: int = 0,
        max_participants: int = 0,
        metadata: str = "",
    ) -> LiveRoom:
        now = _now()
        live = LiveRoom(
            info=models.Room(
                sid=new_id("RM_"),
                name=name,
                empty_timeout=empty_timeout or DEFAULT_EMPTY_TIMEOUT_SECONDS,
                departure_timeout=departure_timeout or DEFAULT_DEPARTURE_TIMEOUT_SECONDS,
                max_participants=max_participants,
                creation_time=int(now),
                creation_time_ms=int(now * 1000),
                metadata=metadata,
            )
        )
        self._rooms[name] = live
        # LiveKit starts the room on a media node at creation, which reports room_started.
        self._emit("room_started", live)
        return live

    def _disconnect(
        self,
        live: LiveRoom,
        identity: str,
        reason: models.DisconnectReason,
        at: float | None = None,
    ) -> models.ParticipantInfo:
        participant = live.participants.pop(identity)
        participant.state = models.ParticipantInfo.State.DISCONNECTED
        participant.disconnect_reason = reason
        if not live.participants:
            live.emptied_at = _now()
        self._emit("participant_left", live, participant=participant, at=at)
        return participant

    def _close_room(self, name: str, reason: models.RoomEndReason) -> None:
        live = self._rooms[name]
        for identity in list(live.participants):
            self._disconnect(live, identity, models.DisconnectReason.ROOM_DELETED)
        del self._rooms[name]
        self._emit("room_finished", live, room_end_reason=reason)

    @staticmethod
    def _idle_deadline(live: LiveRoom) -> float:
        if live.emptied_at is None:
            return live.info.creation_time + live.info.empty_timeout
        return live.emptied_at + live.info.departure_timeout

    def _emit(
        self,
        kind: str,
        live: LiveRoom,
        *,
        participant: models.ParticipantInfo | None = None,
        room_end_reason: models.RoomEndReason | None = None,
        at: float | None = None,
    ) -> None:
        event = WebhookEvent(
            event=kind,
            room=live.snapshot(),
            id=new_id("EV_"),
            created_at=int(_now() if at is None else at),
        )
        if participant is not None:
            event.participant.CopyFrom(participant)
        if room_end_reason is not None:
            event.room_end_reason = room_end_reason
        self._events.append(event)
        if not self.webhook_url:
            return
        if self.drop_webhooks:
            self._dropped_since_last_send += 1
            self._deliveries[event.id] = [
                {
                    "url": self.webhook_url,
                    "attempted_at": int(_now()),
                    "status": None,
                    "error": "dropped by the sandbox",
                    "dropped": True,
                }
            ]
            return
        self._outbox.append(event.id)

    def _event(self, event_id: str) -> WebhookEvent:
        for event in self._events:
            if event.id == event_id:
                return event
        raise TwirpError("not_found", f"no such event: {event_id}")

    def _save(self) -> None:
        if self._state_file is None:
            return
        state = {
            "rooms": [live.to_state() for live in self._rooms.values()],
            "events": [_message_dict(event) for event in self._events],
            "deliveries": self._deliveries,
            "dropped_since_last_send": self._dropped_since_last_send,
        }
        partial = self._state_file.with_suffix(self._state_file.suffix + ".partial")
        partial.write_text(json.dumps(state))
        os.replace(partial, self._state_file)

    def _load(self) -> None:
        if self._state_file is None or not self._state_file.exists():
            return
        state = json.loads(self._state_file.read_text())
        rooms = [LiveRoom.from_state(room) for room in state["rooms"]]
        self._rooms = {live.info.name: live for live in rooms}
        self._events = [json_format.ParseDict(e, WebhookEvent()) for e in state["events"]]
        self._deliveries = state["deliveries"]
        self._dropped_since_last_send = state["dropped_since_last_send"]

    # -- Webhook delivery ----------------------------------------------------------------------

    def _send_outbox(self) -> None:
        with self._lock:
            event_ids, self._outbox = self._outbox, []
        for event_id in event_ids:
            if self.deliver_synchronously:
                self._deliver(event_id)
            else:
                self._deliveries_out.submit(event_id)

    def _deliver(self, event_id: str) -> dict[str, Any]:
        """One attempt. LiveKit's own sender retries a failing receiver a few times within
        seconds, then gives the event up, as happens here at once."""
        url, host = self.webhook_url, self.webhook_host
        if not url:  # removed since the event was queued
            return {
                "url": None,
                "attempted_at": int(_now()),
                "status": None,
                "error": "no url",
                "dropped": False,
            }
        with self._lock:
            event = self._event(event_id)
            # As LiveKit: each sent event says how many were lost since the last one sent.
            carried = self._dropped_since_last_send
            event.num_dropped = carried
            self._dropped_since_last_send = 0
            body = webhook_body(event)
        attempt = post_webhook(
            url, body, webhook_authorization(body, self.api_key, self.api_secret), host=host
        )
        with self._lock:
            # LiveKit gives up on unreachable receivers and 5xx answers (a 4xx is not retried
            # and counts as sent), and counts the event as dropped with those it carried.
            if attempt["status"] is None or attempt["status"] >= 500:
                self._dropped_since_last_send += carried + 1
            self._deliveries.setdefault(event_id, []).append(attempt)
            self._save()
        return attempt


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post_webhook(url: str, body: bytes, authorization: str, host: str | None = None) -> dict:
    """POST one signed event; returns the attempt (status None when unreachable)."""
    headers = {"Content-Type": "application/webhook+json", "Authorization": authorization}
    if host:
        headers["Host"] = host
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    attempt: dict[str, Any] = {
        "url": url,
        "attempted_at": int(_now()),
        "status": None,
        "error": None,
        "dropped": False,
    }
    try:
        with _NO_PROXY_OPENER.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as reply:
            attempt["status"] = reply.status
    except urllib.error.HTTPError as error:
        attempt.update(status=error.code, error=f"HTTP {error.code}")
    except OSError as error:
        attempt["error"] = str(error)
    if attempt["error"]:
        logger.warning("LiveKit sandbox webhook to %s failed: %s", url, attempt["error"])
    return attempt


# ---------------------------------------------------------------------------------------------
# Running it


_LOG_PREFIX = "livekit sandbox: "


def serve(
    host: str = "127.0.0.1", port: int = 0, sandbox: LiveKitSandbox | None = None
) -> tuple[ThreadingServer, str]:
    """Serve a sandbox from a daemon thread; port 0 picks a free port. Returns the server
    (`.shutdown()` stops it, `.sandbox` is the app) and its base URL."""
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
    parser = argparse.ArgumentParser(description="Run the local LiveKit sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7880)
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
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
