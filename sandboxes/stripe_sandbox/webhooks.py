"""Events and their webhooks: signed with Stripe's real scheme (`Stripe-Signature:
t=…,v1=HMAC-SHA256`) and sent once the state lock is released.

As Stripe documents, an event that happened on a connected account carries that account's id
in its top-level `account` and goes only to the platform's Connect endpoint (registered with
`connect=true`), signed with that endpoint's own secret; every other event goes only to the
account endpoint."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sandboxes import _server
from sandboxes._server import WebhookSender
from sandboxes.stripe_sandbox.calls import CallContext
from sandboxes.stripe_sandbox.errors import StripeApiError
from sandboxes.stripe_sandbox.objects import API_VERSION, new_object, unix_time
from sandboxes.stripe_sandbox.state import StripeState


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value: `t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _event_object(
    event_type: str,
    snapshot: dict[str, Any],
    *,
    request: CallContext | None,
    previous: dict[str, Any] | None,
    connected_account: str | None,
    pending_webhooks: int,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": copy.deepcopy(snapshot)}
    if previous:
        data["previous_attributes"] = previous
    event = {
        **new_object("evt", "event"),
        "api_version": API_VERSION,
        "type": event_type,
        "data": data,
        "pending_webhooks": pending_webhooks,
        "request": {
            "id": request.request_id if request else None,
            "idempotency_key": request.idempotency_key if request else None,
        },
    }
    if connected_account:
        event["account"] = connected_account
    return event


def post_webhook(
    url: str, payload: bytes, signature: str, host: str | None = None
) -> dict[str, Any]:
    """POST one signed event; returns the attempt (status None when unreachable)."""
    headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
    return _server.post_webhook(url, payload, headers, host=host, label="Stripe sandbox")


class Webhooks(StripeState, WebhookSender):
    """Events, emitted under the lock with the change that caused them and delivered once it is
    released: by a background sender, or at once with `deliver_synchronously`."""

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """Run under the lock, persist, then hand new events to the webhook sender."""
        with self._lock:
            yield
            self._save()
        self._send_outbox()

    def _emit(
        self,
        account_id: str,
        event_type: str,
        obj: dict[str, Any],
        *,
        request: CallContext | None = None,
        previous: dict[str, Any] | None = None,
        connected_account: str | None = None,
    ) -> None:
        url, _, _ = self._accounts[account_id].endpoint(connect=connected_account is not None)
        event = _event_object(
            event_type,
            obj,
            request=request,
            previous=previous,
            connected_account=connected_account,
            pending_webhooks=1 if url else 0,
        )
        self._store(account_id, event)
        if url:
            self._outbox.append(event["id"])

    def _endpoint(self, event_id: str) -> tuple[str | None, str | None, str]:
        """Where an event goes: the Connect endpoint when it is a connected account's."""
        account = self._accounts[self._owners[event_id]]
        return account.endpoint(connect=bool(self._objects[event_id].get("account")))

    def _payload(self, event_id: str) -> bytes:
        _, event = self._find(event_id, "event")
        return json.dumps(event, indent=2).encode()

    def events(self, account_id: str, event_type: str | None = None) -> list[dict[str, Any]]:
        """The events generated for a platform account, newest first."""
        with self._lock:
            self._platform(account_id)
            return [
                copy.deepcopy(obj)
                for obj in reversed(self._objects.values())
                if obj["object"] == "event"
                and self._owners[obj["id"]] == account_id
                and event_type in (None, obj["type"])
            ]

    def deliveries(self, event_id: str) -> list[dict[str, Any]]:
        """Every attempt to deliver an event: url, status (None when unreachable), error."""
        with self._lock:
            return copy.deepcopy(self._deliveries.get(event_id, []))

    def event_payload(self, event_id: str) -> bytes:
        """The exact bytes a webhook for this event carries."""
        with self._lock:
            return self._payload(event_id)

    @staticmethod
    def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
        return sign(payload, secret, timestamp)

    def signed_event(self, event_id: str) -> tuple[bytes, str]:
        """The payload and `Stripe-Signature` value for posting an event by hand."""
        with self._lock:
            payload = self._payload(event_id)
            _, _, secret = self._endpoint(event_id)
        return payload, sign(payload, secret)

    def resend_event(self, event_id: str) -> dict[str, Any]:
        """Deliver an event again, now (real Stripe retries, so receivers see duplicates)."""
        with self._lock:
            owner, _ = self._find(event_id, "event")
            url, _, _ = self._endpoint(event_id)
            if not url:
                raise StripeApiError(400, f"Account {owner} has no endpoint for this event.")
        return self._deliver(event_id)

    def _deliver(self, event_id: str) -> dict[str, Any]:
        with self._lock:
            url, host, secret = self._endpoint(event_id)
            payload = self._payload(event_id)
        if not url:  # removed since the event was queued
            return {
                "url": None,
                "attempted_at": unix_time(),
                "status": None,
                "error": "no endpoint",
            }
        attempt = post_webhook(url, payload, sign(payload, secret), host=host)
        with self._lock:
            self._deliveries.setdefault(event_id, []).append(attempt)
            if attempt["status"] is not None and 200 <= attempt["status"] < 300:
                self._objects[event_id]["pending_webhooks"] = 0
            self._save()
        return attempt
