"""The open rooms and who is in them, the webhook events so far and their deliveries, held
under one lock and, given a state file, kept across restarts."""

from __future__ import annotations

import os
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from livekit import api
from livekit.protocol import models
from livekit.protocol.webhook import WebhookEvent

from sandboxes._state_file import state_read, state_write

DEFAULT_API_KEY = "devkey"
# PyJWT warns about HMAC keys shorter than 32 bytes, so the development secret is longer
# than livekit-server's own `--dev` one ("secret"). The product's development default matches.
DEFAULT_API_SECRET = "callrix-dev-livekit-secret-not-for-production"

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """LiveKit's ids: `RM_` rooms, `PA_` participants, `EV_` webhook events."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(12))


def unix_time() -> float:
    return time.time()


def message_dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message)


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
            "info": message_dict(self.info),
            "participants": [message_dict(p) for p in self.participants.values()],
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


class LiveKitState:
    """What the sandbox holds: its API key, the webhook settings, the open rooms, the event
    log and its deliveries. The concerns (rooms, RoomService, webhooks, control) build on it
    as mixins of `LiveKitSandbox`."""

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
        # The room-service methods asked, in order (a test sees how often LiveKit was asked).
        self.api_calls: list[str] = []
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

    def _save(self) -> None:
        if self._state_file is None:
            return
        state = {
            "rooms": [live.to_state() for live in self._rooms.values()],
            "events": [message_dict(event) for event in self._events],
            "deliveries": self._deliveries,
            "dropped_since_last_send": self._dropped_since_last_send,
        }
        state_write(self._state_file, state)

    def _load(self) -> None:
        state = state_read(self._state_file)
        if state is None:
            return
        rooms = [LiveRoom.from_state(room) for room in state["rooms"]]
        self._rooms = {live.info.name: live for live in rooms}
        self._events = [json_format.ParseDict(e, WebhookEvent()) for e in state["events"]]
        self._deliveries = state["deliveries"]
        self._dropped_since_last_send = state["dropped_since_last_send"]
