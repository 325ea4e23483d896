"""Rooms and their participants: opened, joined (by name, or with a client's access token),
left, closed, and expired as LiveKit expires idle rooms. Media is not carried: these methods
play the clients' part."""

from __future__ import annotations

from typing import Any

from livekit.protocol import models

from sandboxes.livekit_sandbox.state import LiveRoom, message_dict, new_id, unix_time
from sandboxes.livekit_sandbox.twirp import TwirpError, permission_denied
from sandboxes.livekit_sandbox.webhooks import Webhooks

# LiveKit's room defaults when CreateRoom leaves them at zero.
DEFAULT_EMPTY_TIMEOUT_SECONDS = 300
DEFAULT_DEPARTURE_TIMEOUT_SECONDS = 20


class Rooms(Webhooks):
    """Rooms and their participants, as LiveKit changes them and as clients join and leave."""

    def _open_room(
        self,
        name: str,
        *,
        empty_timeout: int = 0,
        departure_timeout: int = 0,
        max_participants: int = 0,
        metadata: str = "",
    ) -> LiveRoom:
        now = unix_time()
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
            live.emptied_at = unix_time()
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
            now = unix_time() if at is None else at
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
            return message_dict(participant)

    def connect(self, token: str) -> dict[str, Any]:
        """A client connects with an access token, checked as LiveKit's signalling endpoint
        does: signed by our key, a `roomJoin` grant, and the room and identity it names."""
        try:
            claims = self._verifier.verify(token)
        except Exception as error:  # PyJWT's errors: signature, issuer, expiry, format
            raise TwirpError("unauthenticated", f"invalid token: {error}") from None
        video = claims.video
        if video is None or not video.room_join or not video.room or not claims.identity:
            raise permission_denied()
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
            return message_dict(participant)

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
        now = unix_time() if now is None else now
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
                {**message_dict(live.snapshot()), "participants": list(live.participants)}
                for live in self._rooms.values()
            ]

    def participants(self, room: str) -> list[str] | None:
        """The identities connected to a room; None when it is not open."""
        with self._lock:
            live = self._rooms.get(room)
            return None if live is None else list(live.participants)

    def reset(self) -> None:
        """Forget every room and event (the webhook settings stay)."""
        with self._transaction():
            self._rooms.clear()
            self._events.clear()
            self._deliveries.clear()
            self._outbox.clear()
            self._dropped_since_last_send = 0
