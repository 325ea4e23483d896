"""The line for a busy advisor: joining with credit, position and estimated wait, the offer to
the first in line when the advisor is free (and to the next when it runs out), leaving."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tenant_apps.advisors.models import Advisor
from tenant_apps.calls import services
from tenant_apps.calls.models import Call, QueueEntry
from tenant_apps.wallets import services as wallet_services
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import make_caller

pytestmark = pytest.mark.django_db


def _token(world, email: str, slug: str = "alpha") -> str:
    return (
        world.api(slug)
        .post("/api/v1/auth/token", {"email": email, "password": PASSWORD})
        .json()["access"]
    )


def _join(world, token, kind="voice"):
    return world.post(f"/api/v1/advisors/{world.advisor.pk}/queue", token, {"kind": kind})


def _place(world, token):
    return world.api("alpha").get(f"/api/v1/advisors/{world.advisor.pk}/queue", token)


def _talking(world, clock, seconds: int = 0) -> dict:
    call = world.request_call()
    world.post(f"/api/v1/calls/{call['id']}/accept", world.advisor_token)
    world.both_join(Call.objects.get(pk=call["id"]).room_name)
    clock.advance(seconds)
    return call


def test_a_queued_caller_is_offered_the_session_when_it_ends(world, clock):
    make_caller("sam@example.test")
    sam = _token(world, "sam@example.test")
    refused = _join(world, sam)
    assert refused.status_code == 409 and refused.json()["code"] == "advisor_available"

    call = _talking(world, clock, 120)
    joined = _join(world, sam)
    assert joined.status_code == 201, joined.content
    place = joined.json()
    assert (place["status"], place["position"], place["length"]) == ("waiting", 1, 1)
    # No history yet: a typical session is 10 minutes, 2 of which have run.
    assert place["estimated_wait_seconds"] == 600 - 120
    assert _join(world, sam).json()["code"] == "queue_conflict"

    console = world.api("alpha").get("/api/v1/advisor/me/queue", world.advisor_token).json()
    assert [(q["position"], q["caller_name"], q["status"]) for q in console] == [
        (1, "Casey", "waiting")
    ]

    world.post(f"/api/v1/calls/{call['id']}/hangup", world.caller_token)
    offered = _place(world, sam).json()
    assert offered["status"] == "offered" and offered["estimated_wait_seconds"] == 0
    assert Advisor.objects.get(pk=world.advisor.pk).status == "busy"  # kept for Sam

    # Nobody else may take the advisor meanwhile.
    make_caller("tia@example.test")
    tia = _token(world, "tia@example.test")
    direct = world.post("/api/v1/calls", tia, {"advisor_id": world.advisor.pk})
    assert direct.status_code == 409 and direct.json()["code"] == "advisor_unavailable"

    started = world.post("/api/v1/calls", sam, {"advisor_id": world.advisor.pk, "kind": "voice"})
    assert started.status_code == 201, started.content
    entry = QueueEntry.objects.get(caller__email="sam@example.test")
    assert entry.status == "accepted" and entry.call_id == started.json()["id"]


def test_an_unused_offer_passes_to_the_next_then_the_advisor_is_online(world, clock):
    make_caller("sam@example.test")
    make_caller("tia@example.test")
    sam, tia = _token(world, "sam@example.test"), _token(world, "tia@example.test")
    call = _talking(world, clock, 30)
    _join(world, sam)
    assert _join(world, tia).json()["position"] == 2
    world.post(f"/api/v1/calls/{call['id']}/hangup", world.caller_token)
    sam_entry = QueueEntry.objects.get(caller__email="sam@example.test")
    assert services.queue_offer_expire(entry_id=sam_entry.pk) == "still offered"

    clock.advance(services.QUEUE_OFFER_SECONDS)
    assert services.queue_offer_expire(entry_id=sam_entry.pk) == "expired"
    assert _place(world, tia).json()["status"] == "offered"
    assert _place(world, sam).status_code == 404
    # Tia leaves instead of starting: nobody is left, so the advisor is online again.
    assert (
        world.api("alpha")
        .delete(f"/api/v1/advisors/{world.advisor.pk}/queue", token=tia)
        .status_code
        == 204
    )
    assert Advisor.objects.get(pk=world.advisor.pk).status == "online"


def test_credit_is_checked_on_joining_and_again_when_offered(world, clock):
    make_caller("poor@example.test", credit_minor=0)
    poor = _token(world, "poor@example.test")
    tia_user = make_caller("tia@example.test")
    tia = _token(world, "tia@example.test")
    call = _talking(world, clock, 10)

    refused = _join(world, poor)
    assert refused.status_code == 422 and refused.json()["code"] == "insufficient_funds"
    assert _join(world, tia).status_code == 201
    # Tia's credit is gone by the time her turn comes.
    wallet_services.hold_place(
        user_id=tia_user.pk, amount_minor=1_900, idempotency_key="elsewhere", description="x"
    )
    world.post(f"/api/v1/calls/{call['id']}/hangup", world.caller_token)
    assert QueueEntry.objects.get(caller=tia_user).status == "skipped"
    assert Advisor.objects.get(pk=world.advisor.pk).status == "online"


def test_bad_queue_requests(world, clock):
    _talking(world, clock)
    assert _join(world, world.caller_token, kind="telepathy").status_code == 422
    assert (
        world.post("/api/v1/advisors/99999999999999999999/queue", world.caller_token).status_code
        == 422
    )
    gone = world.post("/api/v1/advisors/424242/queue", world.caller_token, {"kind": "voice"})
    assert gone.status_code == 404
    left = world.api("alpha").delete(
        f"/api/v1/advisors/{world.advisor.pk}/queue", token=world.caller_token
    )
    assert left.status_code == 404 and left.json()["code"] == "not_in_queue"
    # Advisors do not queue.
    assert _join(world, world.advisor_token).status_code == 403


def test_another_licensee_cannot_join_or_see_the_line(world, clock, beta, api):
    make_caller("sam@example.test")
    sam = _token(world, "sam@example.test")
    _talking(world, clock)
    _join(world, sam)
    with schema_context("beta"):
        connection.tenant = beta
        make_caller("bea@example.test")
    bea = _token(world, "bea@example.test", "beta")
    on_beta = api("beta")
    assert (
        on_beta.post(
            f"/api/v1/advisors/{world.advisor.pk}/queue", {"kind": "voice"}, token=bea
        ).status_code
        == 404
    )
    assert on_beta.get(f"/api/v1/advisors/{world.advisor.pk}/queue", token=sam).status_code == 401
    assert on_beta.get(f"/api/v1/advisors/{world.advisor.pk}/queue", token=bea).status_code == 404
    connection.set_tenant(world.licensee)
    assert QueueEntry.objects.count() == 1
