"""The only module that talks to LiveKit. It speaks our words (a call's room, who is in it, a
participant's pass into it, what a webhook says) to the rest of the code and LiveKit's to
LiveKit, through the official `livekit-api` SDK, against `LIVEKIT_URL` (the local sandbox in
development and tests, `python -m sandboxes.livekit_sandbox`)."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import datetime
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypedDict, TypeVar

import aiohttp
from django.conf import settings
from livekit import api

from kernel.circuit_breaker import CircuitBreaker, CircuitOpen
from tenant_apps.calls.errors import LiveKitUnavailable, LiveKitWebhookInvalid, NotASandbox

# The development secret of settings.py and of the local sandbox (sandboxes/livekit_sandbox/);
# a real LiveKit server is always given its own secret.
SANDBOX_API_SECRET = "callrix-dev-livekit-secret-not-for-production"

Result = TypeVar("Result")

# The data topic of our in-call events (frontend/src/call.js listens on it; the browsers' own
# chat messages go on "chat"). Named for what it carries: the licensee's pages see it.
EVENTS_TOPIC = "call-events"


class LiveKitWebhook(TypedDict):
    """What a verified LiveKit webhook says."""

    id: str
    event: str
    room_name: str | None
    participant_identity: str | None  # None when the event has none
    created_at: int  # unix seconds
    num_dropped: int  # events LiveKit lost just before this one


def _credentials() -> tuple[str, str]:
    key, secret = settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET
    if not key or not secret:
        raise LiveKitUnavailable("LiveKit is not configured.")
    return key, secret


def _api_url() -> str:
    """`LIVEKIT_URL` is what browsers connect to (ws:// or wss://); the server API is the same
    host over http:// or https://."""
    url = settings.LIVEKIT_URL
    if not url:
        raise LiveKitUnavailable("LiveKit is not configured.")
    return "http" + url[2:] if url.startswith("ws") else url


class _ApiLoop:
    """One event loop per process, in a daemon thread, and one `LiveKitAPI` client per
    server on it, kept for the life of the process: every call reuses the client's HTTP
    connections instead of building a loop, a session and a TLS handshake each time. A forked
    child (gunicorn, dramatiq) makes its own on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0
        self._clients: dict[tuple[str, str, str, float], api.LiveKitAPI] = {}

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid() or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="livekit-api", daemon=True).start()
                self._loop, self._pid, self._clients = loop, os.getpid(), {}
            return self._loop

    def _client(self, url: str, key: str, secret: str, timeout: float) -> api.LiveKitAPI:
        # Only ever called on the loop's own thread, so the dict needs no lock.
        slot = (url, key, secret, timeout)
        client = self._clients.get(slot)
        if client is None:
            for stale in list(self._clients):  # settings changed: the old server is done with
                asyncio.ensure_future(self._clients.pop(stale).aclose())
            client = api.LiveKitAPI(url, key, secret, timeout=aiohttp.ClientTimeout(total=timeout))
            self._clients[slot] = client
        return client

    def close(self) -> None:
        """Close the clients' HTTP sessions and stop the loop (at exit)."""
        loop = self._loop
        if loop is None or self._pid != os.getpid() or loop.is_closed():
            return

        async def close_all() -> None:
            for client in self._clients.values():
                await client.aclose()
            self._clients.clear()

        try:
            asyncio.run_coroutine_threadsafe(close_all(), loop).result(timeout=2)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass
        loop.call_soon_threadsafe(loop.stop)

    def run(self, operation: Callable[[api.LiveKitAPI], Awaitable[Result]]) -> Result:
        url, (key, secret) = _api_url(), _credentials()
        timeout = float(settings.LIVEKIT_TIMEOUT_SECONDS)

        async def main() -> Result:
            return await operation(self._client(url, key, secret, timeout))

        future = asyncio.run_coroutine_threadsafe(main(), self._running_loop())
        try:
            return future.result(timeout=timeout + 1)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError("LiveKit did not answer in time") from None


_api_loop = _ApiLoop()
atexit.register(_api_loop.close)
# Stops asking LiveKit for a while after calls in a row could not reach it (LIVEKIT_BREAKER_*).
breaker = CircuitBreaker(
    "livekit",
    failures=lambda: int(settings.LIVEKIT_BREAKER_FAILURES),
    cooldown_seconds=lambda: float(settings.LIVEKIT_BREAKER_COOLDOWN_SECONDS),
)


def _call(operation: Callable[[api.LiveKitAPI], Awaitable[Result]]) -> Result:
    try:
        breaker.before_call()
    except CircuitOpen:
        raise LiveKitUnavailable("LiveKit is not answering just now. Please try again.") from None
    try:
        result = _api_loop.run(operation)
    except api.TwirpError as error:
        if error.status >= 500:
            breaker.failed()
        else:
            breaker.succeeded()  # LiveKit answered: it is up, it refused this request
        if error.status in (401, 403):
            raise LiveKitUnavailable("LiveKit refused our API key.") from None
        raise LiveKitUnavailable(f"LiveKit refused the request: {error.message}") from None
    except (aiohttp.ClientError, TimeoutError, OSError):
        breaker.failed()
        raise LiveKitUnavailable("LiveKit could not be reached. Please try again.") from None
    breaker.succeeded()
    return result


def room_create(*, name: str, empty_timeout_seconds: int = 60, max_participants: int = 2) -> None:
    """Open a call's room; LiveKit closes it by itself if nobody joins within the timeout.
    Safe to repeat: LiveKit answers CreateRoom for an open room with that room."""
    request = api.CreateRoomRequest(
        name=name, empty_timeout=empty_timeout_seconds, max_participants=max_participants
    )

    async def create(client: api.LiveKitAPI) -> None:
        await client.room.create_room(request)

    _call(create)


def room_delete(*, name: str) -> bool:
    """Close a room and disconnect everyone in it. False when it was not open (never made,
    already closed, or closed by LiveKit for being idle)."""

    async def delete(client: api.LiveKitAPI) -> bool:
        try:
            await client.room.delete_room(api.DeleteRoomRequest(room=name))
        except api.TwirpError as error:
            if error.code == api.TwirpErrorCode.NOT_FOUND:
                return False
            raise
        return True

    return _call(delete)


def rooms_open(*, names: list[str]) -> dict[str, int]:
    """Which of these rooms are open, with how many are in each: one ListRooms for them all
    (the reconciler's view of every running call at once)."""
    if not names:
        return {}

    async def rooms(client: api.LiveKitAPI) -> dict[str, int]:
        reply = await client.room.list_rooms(api.ListRoomsRequest(names=names))
        return {room.name: int(room.num_participants) for room in reply.rooms}

    return _call(rooms)


def participants_in(*, name: str) -> list[str]:
    """The identities connected to an open room (ListParticipants)."""

    async def participants(client: api.LiveKitAPI) -> list[str]:
        reply = await client.room.list_participants(api.ListParticipantsRequest(room=name))
        return [participant.identity for participant in reply.participants]

    return _call(participants)


def room_participants(*, name: str) -> list[str] | None:
    """The identities connected to a room, or None when the room is not open."""

    async def participants(client: api.LiveKitAPI) -> list[str] | None:
        # ListParticipants answers an empty list for a room that does not exist, so whether
        # the room is open is asked first.
        listed = await client.room.list_rooms(api.ListRoomsRequest(names=[name]))
        if not any(room.name == name for room in listed.rooms):
            return None
        reply = await client.room.list_participants(api.ListParticipantsRequest(room=name))
        return [participant.identity for participant in reply.participants]

    return _call(participants)


def room_send_data(
    *, name: str, payload: Mapping[str, str | int], topic: str, identities: list[str]
) -> bool:
    """Send a reliable JSON data message to these participants' apps in the room (an
    in-call event). False when the room is not open any more."""

    async def send(client: api.LiveKitAPI) -> bool:
        try:
            await client.room.send_data(
                api.SendDataRequest(
                    room=name,
                    data=json.dumps(payload).encode(),
                    topic=topic,
                    kind=api.DataPacket.Kind.RELIABLE,
                    destination_identities=identities,
                )
            )
        except api.TwirpError as error:
            if error.code == api.TwirpErrorCode.NOT_FOUND:
                return False
            raise
        return True

    return _call(send)


def _grants_for(kind: str, room: str) -> api.VideoGrants:
    """What a party may send in a session of this kind. LiveKit's `canPublish` covers
    tracks (narrowed by `canPublishSources`), `canPublishData` data messages; both are set
    explicitly, since a token naming neither publish nor subscribe grants both."""
    if kind == "chat":  # text over data messages; no microphone, no camera
        return api.VideoGrants(
            room_join=True,
            room=room,
            can_publish=False,
            can_publish_sources=[],
            can_subscribe=True,
            can_publish_data=True,
        )
    sources = ["microphone", "camera"] if kind == "video" else ["microphone"]
    return api.VideoGrants(
        room_join=True,
        room=room,
        can_publish=True,
        can_publish_sources=sources,
        can_subscribe=True,
        can_publish_data=False,
    )


def access_token_issue(
    *, room: str, identity: str, display_name: str, kind: str = "voice", ttl_seconds: int = 600
) -> str:
    """A participant's pass into one room, with what the session's kind needs (voice: the
    microphone; video: microphone and camera; chat: data messages only); never a screen
    share, administration or recording rights. The TTL only bounds when the pass can be
    used to connect, not how long the session may last."""
    key, secret = _credentials()
    grants = _grants_for(kind, room)
    token = (
        api.AccessToken(key, secret)
        .with_identity(identity)
        .with_name(display_name)
        .with_ttl(datetime.timedelta(seconds=ttl_seconds))
        .with_grants(grants)
    )
    return token.to_jwt()


def webhook_event_parse(*, body: bytes, authorization: str) -> LiveKitWebhook:
    """Verify a LiveKit webhook (its `Authorization` JWT is signed with our API secret, issued
    by our key, unexpired, and carries the SHA-256 of the exact body) and return what it says."""
    key, secret = settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET
    if not key or not secret:  # an empty secret would accept tokens signed with nothing
        raise LiveKitWebhookInvalid("LiveKit is not configured.")
    receiver = api.WebhookReceiver(api.TokenVerifier(key, secret))
    # LiveKit sends the bare token; a `Bearer ` prefix added on the way is tolerated.
    token = authorization.strip().removeprefix("Bearer ").strip()
    try:
        event = receiver.receive(body.decode("utf-8"), token)
    except Exception:  # the SDK raises PyJWT's errors, ValueError, and a bare Exception
        raise LiveKitWebhookInvalid("The webhook signature is invalid or expired.") from None
    if not event.id or not event.event:
        raise LiveKitWebhookInvalid("The webhook body is not a LiveKit event.")
    return {
        "id": event.id,
        "event": event.event,
        "room_name": event.room.name or None,
        "participant_identity": event.participant.identity or None,
        "created_at": int(event.created_at),
        "num_dropped": int(event.num_dropped),
    }


# --- The local sandbox, which carries no media ----------------------------------------------


def is_sandbox() -> bool:
    """True when LIVEKIT_* point at the local sandbox: browsers then cannot carry audio, and
    the call screen plays the participant's connection through the sandbox instead."""
    return bool(settings.LIVEKIT_URL) and settings.LIVEKIT_API_SECRET == SANDBOX_API_SECRET


def _sandbox_post(path: str, body: dict[str, str]) -> dict[str, Any] | None:
    if not is_sandbox():
        raise NotASandbox("Calls here carry real audio through LiveKit.", field=None)
    request = urllib.request.Request(
        f"{_api_url().rstrip('/')}/_sandbox/{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.LIVEKIT_TIMEOUT_SECONDS) as response:
            reply: dict[str, Any] = json.loads(response.read() or b"{}")
            return reply
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise LiveKitUnavailable(f"The LiveKit sandbox refused: {error.read()[:200]!r}") from None
    except urllib.error.URLError:
        raise LiveKitUnavailable("The LiveKit sandbox could not be reached.") from None


def sandbox_connect(*, token: str) -> None:
    """Connect with a participant's access token, as a LiveKit client does (the sandbox checks
    the token like LiveKit's signalling endpoint and sends participant_joined)."""
    _sandbox_post("connect", {"token": token})


def sandbox_disconnect(*, room: str, identity: str) -> bool:
    """The participant's client leaves the room (participant_left); False if not in it."""
    return _sandbox_post(f"rooms/{room}/leave", {"identity": identity}) is not None
