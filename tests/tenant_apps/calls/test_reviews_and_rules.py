"""Reviews, refusals when a call cannot start, spending caps and licensee isolation."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context

from tenant_apps.advisors.models import Advisor
from tenant_apps.calls import services
from tenant_apps.calls.models import Call
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import make_advisor, make_caller

pytestmark = pytest.mark.django_db


def _talk(world, clock, seconds: int) -> dict:
    call = world.request_call()
    world.post(f"/api/v1/calls/{call['id']}/accept", world.advisor_token)
    world.both_join(Call.objects.get(pk=call["id"]).room_name)
    clock.advance(seconds)
    return world.post(f"/api/v1/calls/{call['id']}/hangup", world.caller_token).json()


def test_a_caller_rates_a_call_once_and_the_average_follows(world, clock):
    call = _talk(world, clock, 75)
    review = world.post(
        f"/api/v1/calls/{call['id']}/review",
        world.caller_token,
        {"rating": 4, "comment": "Helpful"},
    )
    assert review.status_code == 201
    again = world.post(f"/api/v1/calls/{call['id']}/review", world.caller_token, {"rating": 5})
    assert again.status_code == 422
    assert Advisor.objects.get(pk=world.advisor.pk).rating == 4.0
    history = world.api("alpha").get("/api/v1/calls", token=world.caller_token).json()
    assert history["results"][0]["rating"] == 4
    assert (
        world.post(f"/api/v1/calls/{call['id']}/review", world.caller_token, {"rating": 9}).json()[
            "field"
        ]
        == "rating"
    )


def test_short_calls_cannot_be_rated(world, clock):
    call = _talk(world, clock, 59)
    response = world.post(f"/api/v1/calls/{call['id']}/review", world.caller_token, {"rating": 5})
    assert response.status_code == 422 and response.json()["code"] == "review_refused"


@pytest.mark.parametrize("status", ["offline", "busy"])
def test_calling_an_unavailable_advisor_is_refused(world, status):
    Advisor.objects.filter(pk=world.advisor.pk).update(status=status)
    response = world.post("/api/v1/calls", world.caller_token, {"advisor_id": world.advisor.pk})
    assert response.status_code == 409 and response.json()["code"] == "advisor_unavailable"
    assert world.wallet().held_minor == 0


def test_a_caller_without_enough_for_the_minimum_is_refused(world):
    poor = make_caller("poor@example.test", credit_minor=399)
    token = (
        world.api("alpha")
        .post("/api/v1/auth/token", {"email": "poor@example.test", "password": PASSWORD})
        .json()["access"]
    )
    response = world.post("/api/v1/calls", token, {"advisor_id": world.advisor.pk})
    assert response.status_code == 422 and response.json()["code"] == "insufficient_funds"
    assert "2 minutes" in response.json()["detail"]
    assert world.wallet(poor.pk).available_minor == 399


def test_one_open_call_per_caller_and_per_advisor(world):
    world.request_call()
    second_advisor = make_advisor("sol@example.test", display_name="Sol")
    response = world.post("/api/v1/calls", world.caller_token, {"advisor_id": second_advisor.pk})
    assert response.status_code == 409 and response.json()["code"] == "caller_in_call"
    other = make_caller("other@example.test")
    token = (
        world.api("alpha")
        .post("/api/v1/auth/token", {"email": "other@example.test", "password": PASSWORD})
        .json()["access"]
    )
    busy = world.post("/api/v1/calls", token, {"advisor_id": world.advisor.pk})
    assert busy.status_code == 409 and busy.json()["code"] == "advisor_unavailable"
    # And the database refuses a second open call for the advisor even if code slipped.
    with pytest.raises(IntegrityError), transaction.atomic():
        Call.objects.create(
            caller=other,
            advisor=world.advisor,
            rate_minor_per_minute=200,
            billing_mode="per_second",
            currency="EUR",
        )


def test_a_spending_cap_refuses_a_call_that_would_cross_it(world):
    capped = world.api("alpha").put(
        "/api/v1/me/spending-cap", {"monthly_limit": 300}, token=world.caller_token
    )
    assert capped.json() == {"monthly_limit": 300}
    response = world.post("/api/v1/calls", world.caller_token, {"advisor_id": world.advisor.pk})
    assert response.status_code == 422 and response.json()["code"] == "spending_cap"
    world.api("alpha").put(
        "/api/v1/me/spending-cap", {"monthly_limit": None}, token=world.caller_token
    )
    assert (
        world.post(
            "/api/v1/calls", world.caller_token, {"advisor_id": world.advisor.pk}
        ).status_code
        == 201
    )


def test_an_owing_wallet_cannot_start_calls(world):
    from tenant_apps.wallets import services as wallet_services
    from tenant_apps.wallets.services import Leg, account_for

    wallet_services.ledger_post(
        idempotency_key="debt",
        kind="refund",
        description="refund after spending",
        legs=[
            Leg(account_for(kind="debt", owner_id=world.caller.pk), -100),
            Leg(account_for(kind="refunds"), 100),
        ],
    )
    response = world.post("/api/v1/calls", world.caller_token, {"advisor_id": world.advisor.pk})
    assert response.status_code == 409 and response.json()["code"] == "wallet_owes"


def test_only_the_parties_see_or_touch_a_call(world, make_user):
    call = world.request_call()
    make_user("alpha", "stranger@example.test")
    stranger = (
        world.api("alpha")
        .post("/api/v1/auth/token", {"email": "stranger@example.test", "password": PASSWORD})
        .json()["access"]
    )
    for path in ("join", "hangup"):
        assert world.post(f"/api/v1/calls/{call['id']}/{path}", stranger).status_code == 404
    assert world.api("alpha").get(f"/api/v1/calls/{call['id']}", token=stranger).status_code == 404
    assert (
        world.post(f"/api/v1/calls/{call['id']}/accept", world.caller_token).status_code == 403
    )  # callers cannot accept


def test_a_user_of_alpha_cannot_join_a_call_at_beta(world, beta):
    with schema_context("beta"):
        from django.db import connection

        connection.tenant = beta
        b_call = services.call_request(
            caller=make_caller("b@example.test"), advisor_id=make_advisor("ba@example.test").pk
        )
    response = world.api("beta").post(f"/api/v1/calls/{b_call.pk}/join", token=world.caller_token)
    assert response.status_code == 401  # alpha's token means nothing at beta
    response = world.post(f"/api/v1/calls/{b_call.pk}/join", world.caller_token)
    assert response.status_code == 404  # and beta's call id means nothing at alpha
