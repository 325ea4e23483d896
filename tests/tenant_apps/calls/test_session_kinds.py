"""Voice, video and chat sessions: each kind at the advisor's own rate, billed alike from
presence in the LiveKit room, with the media grants the kind needs."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from livekit import api as livekit_api

from tenant_apps.calls.models import Call
from tenant_apps.pricing.services import policy_update
from tenant_apps.wallets.selectors import ledger_verify
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import make_caller

pytestmark = pytest.mark.django_db

LUNA_RATES = {"voice": 200, "chat": 150, "video": 300}


def _offer(world, rates=LUNA_RATES):
    return world.api("alpha").patch("/api/v1/advisor/me", {"rates": rates}, world.advisor_token)


def _request(world, kind: str):
    return world.post(
        "/api/v1/calls", world.caller_token, {"advisor_id": world.advisor.pk, "kind": kind}
    )


def test_an_advisor_offers_kinds_each_with_its_rate(world):
    offered = _offer(world)
    assert offered.status_code == 200, offered.content
    assert offered.json()["rates"] == LUNA_RATES

    public = world.api("alpha").get(f"/api/v1/advisors/{world.advisor.pk}").json()
    assert public["kinds"] == ["voice", "video", "chat"] and public["rates"] == LUNA_RATES
    listed = world.api("alpha").get("/api/v1/advisors", kind="chat").json()
    assert [a["id"] for a in listed["results"]] == [world.advisor.pk]

    # Leaving a kind out withdraws it; voice keeps the rate it had.
    _offer(world, {"chat": 150})
    public = world.api("alpha").get(f"/api/v1/advisors/{world.advisor.pk}").json()
    assert public["kinds"] == ["chat"] and public["rates"] == {"chat": 150}
    assert world.api("alpha").get("/api/v1/advisors", kind="voice").json()["count"] == 0
    refused = _request(world, "voice")
    assert refused.status_code == 422
    assert refused.json() == {
        "detail": "Luna does not offer this kind of session.",
        "code": "kind_not_offered",
        "field": "kind",
    }


@pytest.mark.parametrize(
    "rates, field",
    [
        ({"chat": 10}, "rates"),  # below the licensee's lowest rate
        ({}, "rates"),
    ],
)
def test_bad_rates_are_refused_and_change_nothing(world, rates, field):
    response = _offer(world, rates)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_advisor" and response.json()["field"] == field
    public = world.api("alpha").get(f"/api/v1/advisors/{world.advisor.pk}").json()
    assert public["rates"] == {"voice": 200}


def test_an_unknown_kind_is_a_422_in_the_error_contract(world):
    response = _offer(world, {"telepathy": 100})
    assert response.status_code == 422
    assert {"detail", "code", "field"} <= set(response.json())
    assert _request(world, "telepathy").status_code == 422


def test_a_chat_at_150_a_minute_for_95_seconds_bills_2_38(world, clock):
    _offer(world)
    call = _request(world, "chat")
    assert call.status_code == 201, call.content
    call = call.json()
    assert call["kind"] == "chat" and call["rate"] == 150
    assert world.wallet().held_minor == 300  # two minutes at €1.50
    world.post(f"/api/v1/calls/{call['id']}/accept", world.advisor_token)
    room = Call.objects.get(pk=call["id"]).room_name
    world.both_join(room)
    clock.advance(95)
    ended = world.post(f"/api/v1/calls/{call['id']}/hangup", world.caller_token).json()
    assert (ended["talk_seconds"], ended["cost"]) == (95, 238)  # 237.5 rounded half up

    receipt = (
        world.api("alpha")
        .get(f"/api/v1/calls/{call['id']}/receipt", token=world.caller_token)
        .json()
    )
    assert (receipt["kind"], receipt["amount"], receipt["rate"]) == ("chat", 238, 150)
    assert world.wallet().available_minor == 2_000 - 238 and world.wallet().held_minor == 0
    assert world.earnings() == 143  # 60 % of 238, rounded half up
    assert ledger_verify() == []
    history = world.api("alpha").get("/api/v1/wallet/transactions", token=world.caller_token)
    [line] = [line for line in history.json()["results"] if line["kind"] == "call"]
    assert (line["description"], line["amount"]) == ("Chat with Luna, 1 min 35 s", -238)


def _grants(world, call_id: int, token: str) -> livekit_api.VideoGrants:
    joined = world.post(f"/api/v1/calls/{call_id}/join", token)
    assert joined.status_code == 200, joined.content
    verifier = livekit_api.TokenVerifier(world.livekit.api_key, world.livekit.api_secret)
    grants = verifier.verify(joined.json()["token"]).video
    assert grants is not None and grants.room_join
    return grants


@pytest.mark.parametrize(
    "kind, publish, sources, data",
    [
        ("voice", True, ["microphone"], False),
        ("video", True, ["microphone", "camera"], False),
        ("chat", False, [], True),
    ],
)
def test_each_kind_grants_only_its_media(world, kind, publish, sources, data):
    _offer(world)
    call = _request(world, kind).json()
    world.post(f"/api/v1/calls/{call['id']}/accept", world.advisor_token)
    for token in (world.caller_token, world.advisor_token):
        grants = _grants(world, call["id"], token)
        assert grants.can_publish is publish and grants.can_subscribe is True
        assert list(grants.can_publish_sources or []) == sources
        assert bool(grants.can_publish_data) is data
    # The stand-in admits the pass as LiveKit's signalling would.
    presence = world.post(
        f"/api/v1/calls/{call['id']}/sandbox/presence", world.caller_token, {"present": True}
    )
    assert presence.status_code == 204
    assert world.livekit.participants(Call.objects.get(pk=call["id"]).room_name) == [
        f"u{world.caller.pk}"
    ]


def test_the_licensee_can_switch_video_off(world):
    _offer(world)
    owner = world.api("alpha")
    policy_update(video_enabled=False)
    public = owner.get(f"/api/v1/advisors/{world.advisor.pk}").json()
    assert public["kinds"] == ["voice", "chat"] and "video" not in public["rates"]
    refused = _request(world, "video")
    assert refused.status_code == 422 and refused.json()["code"] == "kind_not_offered"
    assert world.wallet().held_minor == 0
    policy_update(video_enabled=True)
    assert _request(world, "video").status_code == 201


def test_another_licensee_cannot_see_or_call_the_advisors_kinds(world, beta, api):
    _offer(world)
    with schema_context("beta"):
        connection.tenant = beta
        make_caller("bea@example.test")  # beta has no advisor at all
    bea = (
        api("beta")
        .post("/api/v1/auth/token", {"email": "bea@example.test", "password": PASSWORD})
        .json()["access"]
    )
    assert api("beta").get(f"/api/v1/advisors/{world.advisor.pk}").status_code == 404
    refused = api("beta").post(
        "/api/v1/calls", {"advisor_id": world.advisor.pk, "kind": "chat"}, token=bea
    )
    assert refused.status_code == 404 and refused.json()["code"] == "call_not_found"
    # Alpha's advisor token cannot change anything on beta's host.
    assert (
        api("beta").patch("/api/v1/advisor/me", {"rates": {"chat": 60}}, world.advisor_token)
    ).status_code == 401
    connection.set_tenant(world.licensee)


def test_the_new_schemas_have_names_of_their_own_in_the_api_document(alpha, host_client):
    from tenant_apps.appointments import api as appointments_api
    from tenant_apps.calls import api as calls_api
    from tenant_apps.promotions import api as promotions_api

    document = host_client("alpha.localhost").get("/api/v1/openapi.json").json()
    components = document["components"]["schemas"]
    receipt = document["paths"]["/api/v1/calls/{call_id}/receipt"]["get"]["responses"]["200"]
    assert receipt["content"]["application/json"]["schema"]["$ref"].endswith("/CallReceiptOut")
    assert "kind" in components["CallReceiptOut"]["properties"]
    assert "video_enabled" in components["PricingPolicyOut"]["properties"]
    # Each schema class of these modules is the only one by its name in the document.
    import inspect

    from ninja import Schema

    for module in (calls_api, appointments_api, promotions_api):
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, Schema)
                and value.__module__ == module.__name__
            ):
                if name in components:
                    assert set(components[name]["properties"]) == set(value.model_fields), name
