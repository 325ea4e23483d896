"""A chat session's messages: both ways through the API, read state and typing, and the
privacy rules that cover transcripts (the end user's export, erasure, retention)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from compliance.licensee.erasure import account_erase
from compliance.licensee.export_scope import EXPORTED_TABLES
from tenant_apps.calls import services
from tenant_apps.calls.models import Call, ChatMessage
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import make_caller

pytestmark = pytest.mark.django_db


def _chat(world) -> int:
    world.api("alpha").patch(
        "/api/v1/advisor/me", {"rates": {"voice": 200, "chat": 150}}, world.advisor_token
    )
    call = world.post(
        "/api/v1/calls", world.caller_token, {"advisor_id": world.advisor.pk, "kind": "chat"}
    ).json()
    world.post(f"/api/v1/calls/{call['id']}/accept", world.advisor_token)
    return call["id"]


def _say(world, call_id: int, token: str, text: str):
    return world.post(f"/api/v1/calls/{call_id}/messages", token, {"text": text})


def _messages(world, call_id: int, token: str, after: int = 0) -> dict:
    response = world.api("alpha").get(f"/api/v1/calls/{call_id}/messages", token, after=after)
    assert response.status_code == 200, response.content
    return response.json()


def test_both_parties_exchange_messages_with_read_state_and_typing(world):
    call_id = _chat(world)
    hello = _say(world, call_id, world.caller_token, "  Will I find my keys?  ")
    assert hello.status_code == 201, hello.content
    assert hello.json()["text"] == "Will I find my keys?" and hello.json()["sender"] == "caller"

    assert world.post(f"/api/v1/calls/{call_id}/typing", world.advisor_token).status_code == 204
    seen = _messages(world, call_id, world.caller_token)
    assert seen["peer_typing"] is True
    advisor_view = _messages(world, call_id, world.advisor_token)
    assert advisor_view["peer_typing"] is False
    [message] = advisor_view["results"]
    assert (message["mine"], message["sender"], message["read_at"]) == (False, "caller", None)

    read = world.post(
        f"/api/v1/calls/{call_id}/messages/read", world.advisor_token, {"up_to": message["id"]}
    )
    assert read.status_code == 204
    answer = _say(world, call_id, world.advisor_token, "Under the sofa.").json()
    assert _messages(world, call_id, world.caller_token)["peer_typing"] is False  # sent

    caller_view = _messages(world, call_id, world.caller_token)["results"]
    assert [(m["text"], m["mine"]) for m in caller_view] == [
        ("Will I find my keys?", True),
        ("Under the sofa.", False),
    ]
    assert caller_view[0]["read_at"] is not None and caller_view[1]["read_at"] is None
    newer = _messages(world, call_id, world.caller_token, after=message["id"])["results"]
    assert [m["id"] for m in newer] == [answer["id"]]

    # Reading one's own messages marks nothing.
    world.post(f"/api/v1/calls/{call_id}/messages/read", world.caller_token, {"up_to": 10**12})
    assert ChatMessage.objects.get(pk=answer["id"]).read_at is not None
    assert ChatMessage.objects.get(pk=message["id"]).read_at is not None


@pytest.mark.parametrize(
    "text, status",
    [("", 422), ("   ", 422), ("bad\x00byte", 422), ("x" * 2_001, 422)],
)
def test_bad_messages_are_refused_and_nothing_is_stored(world, text, status):
    call_id = _chat(world)
    response = _say(world, call_id, world.caller_token, text)
    assert response.status_code == status
    assert {"detail", "code", "field"} <= set(response.json())
    assert not ChatMessage.objects.exists()


def test_messages_belong_to_running_chats_only(world, clock):
    voice = world.request_call()
    refused = _say(world, voice["id"], world.caller_token, "hello")
    assert refused.status_code == 409 and refused.json()["code"] == "call_state"
    world.post(f"/api/v1/calls/{voice['id']}/hangup", world.caller_token)

    call_id = _chat(world)
    world.post(f"/api/v1/calls/{call_id}/hangup", world.caller_token)
    ended = _say(world, call_id, world.advisor_token, "are you there?")
    assert ended.status_code == 409 and ended.json()["field"] == "call_id"
    assert (
        world.api("alpha")
        .get("/api/v1/calls/99999999999999999999/messages", world.caller_token)
        .status_code
        == 422
    )


def test_transcripts_are_in_the_export_erased_with_the_caller_and_expire(world, clock, api):
    call_id = _chat(world)
    _say(world, call_id, world.caller_token, "Tell me about my week")
    _say(world, call_id, world.advisor_token, "A letter arrives.")
    assert "calls_chatmessage" in EXPORTED_TABLES

    own = api("alpha").get("/api/v1/me/export", token=world.caller_token).json()
    assert [(m["from"], m["text"]) for m in own["chat_messages"]] == [
        ("me", "Tell me about my week"),
        ("Luna", "A letter arrives."),
    ]
    assert own["calls"][0]["kind"] == "chat"
    advisor_own = api("alpha").get("/api/v1/me/export", token=world.advisor_token).json()
    assert [m["text"] for m in advisor_own["chat_messages"]] == ["A letter arrives."]

    world.post(f"/api/v1/calls/{call_id}/hangup", world.caller_token)
    # Retention: kept CHAT_RETENTION_DAYS (90) after the session ended, then deleted.
    ended = Call.objects.get(pk=call_id).ended_at
    assert services.chat_messages_expire(now=ended + timedelta(days=89)) == 0
    other = make_caller("other@example.test")
    assert ChatMessage.objects.count() == 2

    account_erase(user_id=world.caller.pk, channel="self_service")
    assert not ChatMessage.objects.filter(call_id=call_id).exists()
    assert Call.objects.filter(pk=call_id).exists()  # the charge stays, 7 years

    # A later session's messages expire by the rule.
    Call.objects.filter(pk=call_id).update(ended_at=ended - timedelta(days=1))
    ChatMessage.objects.create(call_id=call_id, sender=other, text="left over")
    assert services.chat_messages_expire(now=ended + timedelta(days=90)) == 1
    assert not ChatMessage.objects.exists()


def test_another_licensee_cannot_read_or_write_the_chat(world, beta, api):
    call_id = _chat(world)
    _say(world, call_id, world.caller_token, "private")
    with schema_context("beta"):
        connection.tenant = beta
        make_caller("bea@example.test")
    bea = (
        api("beta")
        .post("/api/v1/auth/token", {"email": "bea@example.test", "password": PASSWORD})
        .json()["access"]
    )
    on_beta = api("beta")
    assert on_beta.get(f"/api/v1/calls/{call_id}/messages", token=bea).status_code == 404
    assert (
        on_beta.post(f"/api/v1/calls/{call_id}/messages", {"text": "hi"}, token=bea).status_code
        == 404
    )
    # Alpha's own token is worthless on beta's host.
    assert (
        on_beta.get(f"/api/v1/calls/{call_id}/messages", token=world.caller_token).status_code
        == 401
    )
    connection.set_tenant(world.licensee)
    assert list(ChatMessage.objects.values_list("text", flat=True)) == ["private"]


def test_a_stranger_in_the_same_licensee_cannot_read_the_chat(world, api):
    call_id = _chat(world)
    make_caller("eve@example.test")
    eve = (
        api("alpha")
        .post("/api/v1/auth/token", {"email": "eve@example.test", "password": PASSWORD})
        .json()["access"]
    )
    assert api("alpha").get(f"/api/v1/calls/{call_id}/messages", token=eve).status_code == 404
    assert (
        world.post(f"/api/v1/calls/{call_id}/messages/read", eve, {"up_to": 1}).status_code == 404
    )
