"""The LiveKit sandbox, driven through the official livekit-api client and our gateway as the
product drives LiveKit; webhooks checked with the SDK's own receiver."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import socket
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from livekit import api

from sandboxes.livekit_sandbox import LiveKitSandbox, TwirpError, serve
from tenant_apps.calls import livekit_gateway as gateway
from tenant_apps.calls.errors import LiveKitUnavailable, LiveKitWebhookInvalid

WRONG_SECRET = "not-the-sandbox-secret-but-long-enough-0123"


@pytest.fixture(scope="module")
def served():
    sandbox = LiveKitSandbox()
    server, base_url = serve(sandbox=sandbox)
    yield sandbox, base_url
    server.shutdown()


@pytest.fixture
def sandbox(served) -> LiveKitSandbox:
    sandbox = served[0]
    sandbox.reset()
    sandbox.webhook_url = None
    sandbox.webhook_host = None
    sandbox.drop_webhooks = False
    sandbox.deliver_synchronously = True
    return sandbox


@pytest.fixture
def base_url(served) -> str:
    return served[1]


@pytest.fixture
def livekit(settings, sandbox, base_url) -> LiveKitSandbox:
    """The gateway pointed at the sandbox, through a browser-style ws:// URL."""
    settings.LIVEKIT_URL = base_url.replace("http://", "ws://")
    settings.LIVEKIT_API_KEY = sandbox.api_key
    settings.LIVEKIT_API_SECRET = sandbox.api_secret
    return sandbox


def _twirp(base_url: str, method: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base_url}/twirp/livekit.RoomService/{method}", data=body, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _control(base_url: str, path: str, data: dict | None = None) -> tuple[int, dict]:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(
        f"{base_url}/_sandbox/{path}",
        data=body,
        method="POST" if body is not None else "GET",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _bearer(sandbox: LiveKitSandbox, grants: api.VideoGrants, secret: str | None = None) -> str:
    token = api.AccessToken(sandbox.api_key, secret or sandbox.api_secret).with_grants(grants)
    return f"Bearer {token.to_jwt()}"


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"ws://127.0.0.1:{port}"


# -- Rooms through the gateway ----------------------------------------------------------------


def test_gateway_creates_lists_and_deletes_a_room(livekit):
    gateway.room_create(name="alpha-1", empty_timeout_seconds=45, max_participants=2)

    assert gateway.room_participants(name="alpha-1") == []
    livekit.join("alpha-1", "caller-7", "Ann")
    livekit.join("alpha-1", "advisor-3", "Madame Z")
    assert gateway.room_participants(name="alpha-1") == ["caller-7", "advisor-3"]
    [room] = livekit.rooms()
    assert room["name"] == "alpha-1"
    assert room["sid"].startswith("RM_")
    assert room["emptyTimeout"] == 45
    assert room["maxParticipants"] == 2
    assert room["numParticipants"] == 2

    assert gateway.room_delete(name="alpha-1") is True
    assert gateway.room_participants(name="alpha-1") is None
    assert livekit.rooms() == []


def test_room_create_is_idempotent(livekit):
    gateway.room_create(name="alpha-2")
    [first] = livekit.rooms()

    gateway.room_create(name="alpha-2")

    assert livekit.rooms() == [first]
    assert [e["event"] for e in livekit.events("alpha-2")] == ["room_started"]


def test_deleting_a_missing_room_returns_false(livekit):
    assert gateway.room_delete(name="alpha-never") is False

    gateway.room_create(name="alpha-3")
    assert gateway.room_delete(name="alpha-3") is True
    assert gateway.room_delete(name="alpha-3") is False


def test_participants_of_a_missing_room_is_none_not_empty(livekit):
    gateway.room_create(name="alpha-4")

    assert gateway.room_participants(name="alpha-missing") is None
    assert gateway.room_participants(name="alpha-4") == []


def test_wrong_api_secret_is_refused(livekit, settings):
    settings.LIVEKIT_API_SECRET = WRONG_SECRET

    with pytest.raises(LiveKitUnavailable) as raised:
        gateway.room_create(name="alpha-5")

    assert raised.value.status_code == 502
    assert raised.value.code == "livekit_unavailable"
    assert livekit.rooms() == []


def test_unreachable_livekit_is_unavailable(settings):
    settings.LIVEKIT_URL = _closed_port_url()

    with pytest.raises(LiveKitUnavailable) as raised:
        gateway.room_participants(name="alpha-6")

    assert "could not be reached" in raised.value.detail


def test_gateway_works_when_called_inside_a_running_event_loop(livekit):
    async def from_async_code() -> list[str] | None:
        gateway.room_create(name="alpha-7")
        return gateway.room_participants(name="alpha-7")

    assert asyncio.run(from_async_code()) == []


def test_participant_is_removed_through_the_official_client(livekit, base_url):
    gateway.room_create(name="alpha-8")
    livekit.join("alpha-8", "caller-7")

    async def remove() -> api.TwirpError:
        async with api.LiveKitAPI(base_url, livekit.api_key, livekit.api_secret) as client:
            await client.room.remove_participant(
                api.RoomParticipantIdentity(room="alpha-8", identity="caller-7")
            )
            with pytest.raises(api.TwirpError) as again:
                await client.room.remove_participant(
                    api.RoomParticipantIdentity(room="alpha-8", identity="caller-7")
                )
            return again.value

    again = asyncio.run(remove())

    assert again.code == "not_found" and again.status == 404
    assert livekit.participants("alpha-8") == []
    left = livekit.events("alpha-8")[-1]
    assert left["event"] == "participant_left"
    assert left["participant"]["disconnectReason"] == "PARTICIPANT_REMOVED"


# -- Authentication and the Twirp wire ---------------------------------------------------------


def test_missing_bad_and_insufficient_tokens_are_refused(sandbox, base_url):
    protobuf = {"Content-Type": "application/protobuf"}
    body = api.CreateRoomRequest(name="alpha-9").SerializeToString()
    forged = _bearer(sandbox, api.VideoGrants(room_create=True), secret=WRONG_SECRET)
    list_only = _bearer(sandbox, api.VideoGrants(room_list=True))
    other_room = _bearer(sandbox, api.VideoGrants(room_admin=True, room="alpha-other"))
    participants = api.ListParticipantsRequest(room="alpha-9").SerializeToString()

    missing = _twirp(base_url, "CreateRoom", body, protobuf)
    bad = _twirp(base_url, "CreateRoom", body, {**protobuf, "Authorization": forged})
    not_granted = _twirp(base_url, "CreateRoom", body, {**protobuf, "Authorization": list_only})
    wrong_room = _twirp(
        base_url, "ListParticipants", participants, {**protobuf, "Authorization": other_room}
    )

    assert missing == (401, {"code": "unauthenticated", "msg": "permissions denied"})
    assert bad[0] == 401 and bad[1]["code"] == "unauthenticated"
    assert bad[1]["msg"].startswith("invalid token")
    assert not_granted == (401, {"code": "unauthenticated", "msg": "permissions denied"})
    assert wrong_room == (401, {"code": "unauthenticated", "msg": "permissions denied"})
    assert sandbox.rooms() == []


def test_json_requests_get_twirp_json_answers(sandbox, base_url):
    headers = {
        "Content-Type": "application/json",
        "Authorization": _bearer(sandbox, api.VideoGrants(room_create=True, room_list=True)),
    }

    created = _twirp(base_url, "CreateRoom", b'{"name": "alpha-10", "emptyTimeout": 30}', headers)
    listed = _twirp(base_url, "ListRooms", b'{"names": ["alpha-10"]}', headers)
    unknown = _twirp(base_url, "MutePublishedTrack", b"{}", headers)
    malformed = _twirp(base_url, "ListRooms", b"{not json", headers)

    assert created[0] == 200
    assert created[1]["name"] == "alpha-10" and created[1]["empty_timeout"] == 30
    assert [room["name"] for room in listed[1]["rooms"]] == ["alpha-10"]
    assert unknown[0] == 404 and unknown[1]["code"] == "bad_route"
    assert malformed[0] == 400 and malformed[1]["code"] == "malformed"


# -- Access tokens ------------------------------------------------------------------------------


def test_access_token_lets_one_participant_talk_in_one_room_only(livekit):
    token = gateway.access_token_issue(
        room="alpha-11", identity="caller-7", display_name="Ann", ttl_seconds=300
    )

    claims = api.TokenVerifier(livekit.api_key, livekit.api_secret).verify(token)
    video = claims.video
    assert claims.identity == "caller-7"
    assert claims.name == "Ann"
    assert video.room == "alpha-11"
    assert video.room_join is True
    assert video.can_publish is True
    assert video.can_publish_sources == ["microphone"]
    assert video.can_subscribe is True
    assert not video.can_publish_data
    assert not any(
        [video.room_admin, video.room_create, video.room_list, video.room_record, video.hidden]
    )
    raw = jwt.decode(token, options={"verify_signature": False})
    assert raw["iss"] == livekit.api_key
    assert raw["exp"] - raw["nbf"] == 300
    assert abs(raw["exp"] - (time.time() + 300)) < 5


def test_access_token_expires(livekit):
    token = gateway.access_token_issue(
        room="alpha-12", identity="caller-7", display_name="Ann", ttl_seconds=120
    )
    verifier = api.TokenVerifier(livekit.api_key, livekit.api_secret)

    # TokenVerifier allows one minute of clock skew.
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=170), tick=False):
        assert verifier.verify(token).identity == "caller-7"
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=190), tick=False):
        with pytest.raises(jwt.ExpiredSignatureError):
            verifier.verify(token)


def test_access_token_connects_to_its_room_in_the_sandbox(livekit):
    gateway.room_create(name="alpha-13")
    token = gateway.access_token_issue(room="alpha-13", identity="caller-7", display_name="Ann")

    joined = livekit.connect(token)

    assert joined["identity"] == "caller-7" and joined["name"] == "Ann"
    assert joined["permission"]["canPublishSources"] == ["MICROPHONE"]
    assert gateway.room_participants(name="alpha-13") == ["caller-7"]
    forged = api.AccessToken(livekit.api_key, WRONG_SECRET).with_identity("x")
    forged.with_grants(api.VideoGrants(room_join=True, room="alpha-13"))
    with pytest.raises(TwirpError) as refused:
        livekit.connect(forged.to_jwt())
    assert refused.value.code == "unauthenticated"


# -- Webhooks -----------------------------------------------------------------------------------


def test_join_leave_and_finish_send_events_our_parser_accepts(livekit):
    gateway.room_create(name="alpha-14")
    livekit.join("alpha-14", "caller-7", "Ann")
    livekit.join("alpha-14", "advisor-3", "Madame Z")
    livekit.leave("alpha-14", "caller-7")
    assert livekit.finish("alpha-14") is True
    assert livekit.finish("alpha-14") is False

    parsed = [
        gateway.webhook_event_parse(body=body, authorization=authorization)
        for body, authorization in (livekit.signed_event(e["id"]) for e in livekit.events())
    ]

    assert [(p["event"], p["participant_identity"]) for p in parsed] == [
        ("room_started", None),
        ("participant_joined", "caller-7"),
        ("participant_joined", "advisor-3"),
        ("participant_left", "caller-7"),
        ("participant_left", "advisor-3"),
        ("room_finished", None),
    ]
    assert {p["room_name"] for p in parsed} == {"alpha-14"}
    assert all(p["id"].startswith("EV_") for p in parsed)
    assert len({p["id"] for p in parsed}) == len(parsed)
    assert all(abs(p["created_at"] - time.time()) < 60 for p in parsed)
    assert livekit.events()[-1]["roomEndReason"] == "ROOM_END_API_DELETE"


def test_joining_an_unopened_room_opens_it_and_sends_room_started_once(livekit):
    livekit.join("alpha-15", "caller-7")
    livekit.join("alpha-15", "advisor-3")

    assert [e["event"] for e in livekit.events("alpha-15")] == [
        "room_started",
        "participant_joined",
        "participant_joined",
    ]


def test_webhook_signature_is_checked(livekit, settings):
    livekit.join("alpha-16", "caller-7")
    body, authorization = livekit.signed_event(livekit.events()[-1]["id"])
    tampered = body.replace(b"caller-7", b"caller-8")
    expired_at = datetime.now(UTC) + timedelta(minutes=7)

    assert gateway.webhook_event_parse(body=body, authorization=authorization)["event"] == (
        "participant_joined"
    )
    for bad_body, bad_authorization in [
        (tampered, authorization),
        (body, ""),
        (body, "not-a-jwt"),
        (b"\xff\xfe", authorization),
    ]:
        with pytest.raises(LiveKitWebhookInvalid) as raised:
            gateway.webhook_event_parse(body=bad_body, authorization=bad_authorization)
        assert raised.value.status_code == 400 and raised.value.code == "bad_webhook"
    with time_machine.travel(expired_at, tick=False):
        with pytest.raises(LiveKitWebhookInvalid):
            gateway.webhook_event_parse(body=body, authorization=authorization)
    settings.LIVEKIT_API_SECRET = WRONG_SECRET
    with pytest.raises(LiveKitWebhookInvalid):
        gateway.webhook_event_parse(body=body, authorization=authorization)


def test_signed_token_carries_the_body_hash_livekit_style(livekit):
    livekit.join("alpha-17", "caller-7")
    body, authorization = livekit.signed_event(livekit.events()[-1]["id"])

    claims = jwt.decode(authorization, livekit.api_secret, algorithms=["HS256"])

    assert claims["iss"] == livekit.api_key
    assert base64.b64decode(claims["sha256"]) == hashlib.sha256(body).digest()
    assert claims["exp"] - claims["nbf"] == 300


def test_webhooks_are_delivered_in_the_background_with_the_tenant_host(httpserver, livekit):
    httpserver.expect_request("/webhooks/livekit", method="POST").respond_with_data("ok")
    livekit.webhook_url = httpserver.url_for("/webhooks/livekit")
    livekit.webhook_host = "alpha.localhost"
    livekit.deliver_synchronously = False

    gateway.room_create(name="alpha-18")
    livekit.join("alpha-18", "caller-7")
    assert livekit.wait_for_deliveries(timeout=10)

    received = [request for request, _ in httpserver.log]
    assert len(received) == 2
    for request in received:
        assert request.headers["Host"] == "alpha.localhost"
        assert request.headers["Content-Type"] == "application/webhook+json"
        assert not request.headers["Authorization"].startswith("Bearer")
    parsed = [
        gateway.webhook_event_parse(
            body=request.get_data(), authorization=request.headers["Authorization"]
        )
        for request in received
    ]
    assert [p["event"] for p in parsed] == ["room_started", "participant_joined"]
    attempts = livekit.deliveries(parsed[1]["id"])
    assert [(a["status"], a["dropped"]) for a in attempts] == [(200, False)]


def test_dropped_webhooks_are_lost_and_counted_on_the_next_one(httpserver, livekit, base_url):
    httpserver.expect_request("/webhooks/livekit", method="POST").respond_with_data("ok")
    livekit.webhook_url = httpserver.url_for("/webhooks/livekit")
    gateway.room_create(name="alpha-19")
    assert _control(base_url, "webhooks", {"drop": True})[1]["drop"] is True

    livekit.join("alpha-19", "caller-7")
    livekit.join("alpha-19", "advisor-3")
    _control(base_url, "webhooks", {"drop": False})
    livekit.leave("alpha-19", "caller-7")

    received = [request for request, _ in httpserver.log]
    parsed = [
        gateway.webhook_event_parse(
            body=request.get_data(), authorization=request.headers["Authorization"]
        )
        for request in received
    ]
    assert [(p["event"], p["num_dropped"]) for p in parsed] == [
        ("room_started", 0),
        ("participant_left", 2),
    ]
    joined = [e for e in livekit.events("alpha-19") if e["event"] == "participant_joined"]
    assert len(joined) == 2
    assert all(livekit.deliveries(e["id"])[0]["dropped"] for e in joined)
    # LiveKit's state stays the truth to check against when webhooks are lost.
    assert gateway.room_participants(name="alpha-19") == ["advisor-3"]


def test_resend_delivers_a_duplicate(httpserver, livekit):
    httpserver.expect_request("/webhooks/livekit", method="POST").respond_with_data("ok")
    livekit.webhook_url = httpserver.url_for("/webhooks/livekit")
    livekit.join("alpha-20", "caller-7")
    joined = livekit.events("alpha-20")[-1]["id"]

    attempt = livekit.resend_event(joined)

    assert attempt["status"] == 200
    ids = [json.loads(request.get_data())["id"] for request, _ in httpserver.log]
    assert ids[1:] == [joined, joined]  # after room_started: the join, then its duplicate


def test_unreachable_receiver_loses_events_and_the_next_sent_one_counts_them(httpserver, livekit):
    livekit.webhook_url = _closed_port_url().replace("ws://", "http://") + "/webhooks/livekit"
    livekit.join("alpha-21", "caller-7")  # room_started and participant_joined, both lost

    attempt = livekit.deliveries(livekit.events()[-1]["id"])[0]
    httpserver.expect_request("/webhooks/livekit", method="POST").respond_with_data("ok")
    livekit.webhook_url = httpserver.url_for("/webhooks/livekit")
    livekit.leave("alpha-21", "caller-7")

    assert attempt["status"] is None and attempt["error"] and not attempt["dropped"]
    [(request, _)] = httpserver.log
    left = gateway.webhook_event_parse(
        body=request.get_data(), authorization=request.headers["Authorization"]
    )
    assert (left["event"], left["num_dropped"]) == ("participant_left", 2)


# -- Room lifecycle and control endpoints -----------------------------------------------------


def test_idle_rooms_close_after_their_timeouts(livekit):
    gateway.room_create(name="alpha-22", empty_timeout_seconds=60)
    livekit.join("alpha-23", "caller-7")
    livekit.leave("alpha-23", "caller-7")
    now = time.time()

    assert livekit.expire_idle_rooms(now=now + 10) == []
    assert livekit.expire_idle_rooms(now=now + 30) == ["alpha-23"]  # departure timeout 20 s
    assert livekit.expire_idle_rooms(now=now + 61) == ["alpha-22"]
    assert gateway.room_participants(name="alpha-22") is None
    finished = livekit.events()[-1]
    assert finished["event"] == "room_finished"
    assert finished["roomEndReason"] == "ROOM_END_IDLE_TIMEOUT"


def test_full_room_and_duplicate_identity(livekit):
    gateway.room_create(name="alpha-24", max_participants=2)
    first = livekit.join("alpha-24", "caller-7")
    livekit.join("alpha-24", "advisor-3")

    with pytest.raises(TwirpError) as full:
        livekit.join("alpha-24", "someone-else")
    again = livekit.join("alpha-24", "caller-7")

    assert full.value.code == "resource_exhausted"
    assert again["sid"] != first["sid"]
    replaced = livekit.events("alpha-24")[-2]
    assert replaced["event"] == "participant_left"
    assert replaced["participant"]["disconnectReason"] == "DUPLICATE_IDENTITY"
    assert sorted(livekit.participants("alpha-24")) == ["advisor-3", "caller-7"]


def test_control_endpoints_play_clients_over_http(sandbox, base_url):
    joined = _control(base_url, "rooms/alpha-25/join", {"identity": "caller-7", "name": "Ann"})
    rooms = _control(base_url, "rooms")
    left = _control(base_url, "rooms/alpha-25/leave", {"identity": "caller-7"})
    not_there = _control(base_url, "rooms/alpha-25/leave", {"identity": "caller-7"})
    finished = _control(base_url, "rooms/alpha-25/finish", {})
    events = _control(base_url, "events?room=alpha-25")
    bad = _control(base_url, "rooms/alpha-25/join", {"name": "no identity"})

    assert joined[0] == 200 and joined[1]["identity"] == "caller-7"
    assert rooms[1]["rooms"][0]["participants"] == ["caller-7"]
    assert left[1]["state"] == "DISCONNECTED"
    assert not_there[0] == 404 and not_there[1]["code"] == "not_found"
    assert finished == (200, {"finished": "alpha-25"})
    assert [e["event"] for e in events[1]["events"]] == [
        "room_started",
        "participant_joined",
        "participant_left",
        "room_finished",
    ]
    assert bad[0] == 400 and bad[1]["code"] == "invalid_argument"


def test_state_file_keeps_rooms_and_events_across_restarts(tmp_path):
    state = tmp_path / "livekit.json"
    first = LiveKitSandbox(state_file=state)
    first.join("alpha-26", "caller-7", "Ann")

    again = LiveKitSandbox(state_file=state)

    assert again.participants("alpha-26") == ["caller-7"]
    assert again.events() == first.events()


def test_short_api_secret_is_refused():
    with pytest.raises(ValueError):
        LiveKitSandbox(api_secret="secret")
