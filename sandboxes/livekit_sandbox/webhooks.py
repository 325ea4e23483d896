"""Webhooks, sent as LiveKit sends them: the JSON of a `livekit.WebhookEvent`, content type
`application/webhook+json`, and `Authorization: <JWT>` whose `sha256` claim is the base64
SHA-256 of the body; best effort, as LiveKit's, and losable on purpose (`drop_webhooks`)."""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from google.protobuf import json_format
from livekit import api
from livekit.protocol import models
from livekit.protocol.webhook import WebhookEvent

from sandboxes import _server
from sandboxes._server import WebhookSender
from sandboxes.livekit_sandbox.state import LiveKitState, LiveRoom, message_dict, new_id, unix_time
from sandboxes.livekit_sandbox.twirp import TwirpError

# LiveKit signs each webhook with a token valid for five minutes.
WEBHOOK_TOKEN_TTL = datetime.timedelta(minutes=5)


def webhook_body(event: WebhookEvent) -> bytes:
    """The bytes LiveKit posts for an event: protobuf's canonical JSON (camelCase names,
    int64 as strings, unset fields left out)."""
    return json_format.MessageToJson(event, indent=None, ensure_ascii=False).encode()


def webhook_authorization(body: bytes, api_key: str, api_secret: str) -> str:
    """The `Authorization` value for a webhook body (a bare JWT, no `Bearer`)."""
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    token = api.AccessToken(api_key, api_secret).with_ttl(WEBHOOK_TOKEN_TTL).with_sha256(digest)
    return token.to_jwt()


def post_webhook(
    url: str, body: bytes, authorization: str, host: str | None = None
) -> dict[str, Any]:
    """POST one signed event; returns the attempt (status None when unreachable)."""
    headers = {"Content-Type": "application/webhook+json", "Authorization": authorization}
    attempt = _server.post_webhook(url, body, headers, host=host, label="LiveKit sandbox")
    return {**attempt, "dropped": False}


class Webhooks(LiveKitState, WebhookSender):
    """The event log, and its webhooks: emitted under the lock with the change that caused
    them and delivered once it is released, by a background sender or at once with
    `deliver_synchronously`."""

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
            created_at=int(unix_time() if at is None else at),
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
                    "attempted_at": int(unix_time()),
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

    def events(self, room: str | None = None) -> list[dict[str, Any]]:
        """Every webhook event so far, oldest first, as the JSON LiveKit sends."""
        with self._lock:
            return [
                message_dict(event)
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

    def _deliver(self, event_id: str) -> dict[str, Any]:
        """One attempt. LiveKit's own sender retries a failing receiver a few times within
        seconds, then gives the event up, as happens here at once."""
        url, host = self.webhook_url, self.webhook_host
        if not url:  # removed since the event was queued
            return {
                "url": None,
                "attempted_at": int(unix_time()),
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
