"""LiveKit's RoomService over Twirp (`POST /twirp/livekit.RoomService/<Method>`), in
protobuf as the official `livekit-api` client sends it, or JSON as `curl` does. Every call
shows an `Authorization: Bearer <JWT>` (HS256 with the API secret, `iss` the API key) with
the video grant LiveKit asks for: `roomCreate`, `roomList`, `roomAdmin` for that room."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from livekit import api
from livekit.protocol import models
from livekit.protocol import room as room_pb

from sandboxes._wsgi import Response
from sandboxes.livekit_sandbox.rooms import Rooms
from sandboxes.livekit_sandbox.twirp import JSON, PROTOBUF, Request, TwirpError, permission_denied

SERVICE_PATH = "/twirp/livekit.RoomService/"

MAX_ROOM_NAME_LENGTH = 256

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


class RoomService(Rooms):
    """The Twirp API: authentication, the grant each method needs, and the methods."""

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
        self.api_calls.append(method)
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
            raise permission_denied()
        allowed = {
            "create": bool(video.room_create),
            "list": bool(video.room_list),
            "admin": bool(video.room_admin) and video.room == room,
        }[grant]
        if not allowed:
            raise permission_denied()

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
