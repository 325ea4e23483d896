"""Free seconds from a promotion code, on a caller's first session with an advisor: paid at
settlement from the ledger's promotion-credit account and shared out like paid talk, shown in
the licensee's reports, and given back to the caller when the session never talked."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from identity.models import User
from tenant_apps.calls.models import Call
from tenant_apps.promotions.models import PromotionUse
from tenant_apps.promotions.services import promotion_create
from tenant_apps.wallets import selectors as wallet_selectors
from tenant_apps.wallets.models import AccountKind
from tenant_apps.wallets.services import account_for
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import make_advisor, make_caller
from tests.tenant_apps.webapp.conftest import client_for

pytestmark = pytest.mark.django_db


def _request(world, **extra):
    return world.post("/api/v1/calls", world.caller_token, {"advisor_id": world.advisor.pk} | extra)


def _promotion_credit() -> int:
    return account_for(kind=AccountKind.PROMOTION_CREDIT).balance_minor


def _talk(world, clock, call_id: int, seconds: int) -> dict:
    world.post(f"/api/v1/calls/{call_id}/accept", world.advisor_token)
    world.both_join(Call.objects.get(pk=call_id).room_name)
    clock.advance(seconds)
    return world.post(f"/api/v1/calls/{call_id}/hangup", world.caller_token).json()


def test_a_first_session_code_gives_free_seconds_once_per_advisor(world, clock):
    promotion_create(
        code="FIRSTMIN", kind="first_session_seconds", free_seconds=60, max_uses_per_user=3
    )
    call = _request(world, promo_code="firstmin")
    assert call.status_code == 201, call.content
    assert call.json()["free_seconds"] == 60
    ended = _talk(world, clock, call.json()["id"], 95)
    assert (ended["talk_seconds"], ended["cost"]) == (95, 117)  # 35 s at €2.00/min
    assert PromotionUse.objects.get().call_id == call.json()["id"]

    # The caller has talked to Luna now: the code is for first sessions only.
    again = _request(world, promo_code="FIRSTMIN")
    assert again.status_code == 422 and again.json()["field"] == "promo_code"
    assert world.wallet().held_minor == 0  # the refused request held nothing
    assert PromotionUse.objects.count() == 1


def test_the_free_seconds_are_paid_from_promotion_credit_and_reported(world, clock, alpha):
    promotion_create(code="FIRSTMIN", kind="first_session_seconds", free_seconds=60)
    call_id = _request(world, promo_code="FIRSTMIN").json()["id"]
    assert PromotionUse.objects.get().status == "pending"  # nothing given before the talk
    _talk(world, clock, call_id, 95)

    # 95 s at €2.00/min is €3.17: the caller pays €1.17, promotion credit the €2.00 of the
    # first minute, and the split shares out all of it.
    call = Call.objects.get(pk=call_id)
    assert (call.cost_minor, call.promotion_minor) == (117, 200)
    assert call.advisor_minor + call.licensee_minor + call.callrix_minor == 317
    assert _promotion_credit() == -200
    assert world.earnings() == call.advisor_minor
    assert world.wallet().available_minor == 2_000 - 117
    assert wallet_selectors.ledger_verify() == []
    use = PromotionUse.objects.get()
    assert (use.status, use.bonus_minor, use.free_seconds) == ("credited", 200, 60)

    receipt = world.api("alpha").get(f"/api/v1/calls/{call_id}/receipt", world.caller_token)
    assert (receipt.json()["amount"], receipt.json()["promotion"]) == (117, 200)
    admin = User.objects.create(email="boss@example.test", role="admin", display_name="Boss")
    report = client_for("alpha", admin).get("/dashboard/").content.decode()
    assert 'data-kpi="promotion_credit">€2.00 (1 use)' in report
    exported = client_for("alpha", admin).get("/dashboard/calls/?format=csv")
    csv = b"".join(exported.streaming_content).decode()
    assert csv.splitlines()[0].endswith(",promotion_minor")
    assert csv.splitlines()[1].endswith(",200")


def test_a_session_that_never_talked_gives_the_code_back(world, clock):
    promotion_create(code="FIRSTMIN", kind="first_session_seconds", free_seconds=60)
    declined = _request(world, promo_code="FIRSTMIN").json()["id"]
    world.post(f"/api/v1/calls/{declined}/decline", world.advisor_token)
    assert Call.objects.get(pk=declined).status != "ringing"
    assert PromotionUse.objects.get(call_id=declined).status == "released"
    assert _promotion_credit() == 0

    # Still the caller's first session with Luna, and the code is theirs to use again.
    second = _request(world, promo_code="FIRSTMIN")
    assert second.status_code == 201, second.content
    _talk(world, clock, second.json()["id"], 30)
    call = Call.objects.get(pk=second.json()["id"])
    assert (call.cost_minor, call.promotion_minor) == (0, 100)  # 30 s at €2.00/min, all free
    assert _promotion_credit() == -100
    assert world.wallet().available_minor == 2_000
    assert wallet_selectors.ledger_verify() == []


def test_a_code_at_one_licensee_is_nothing_at_another(world, clock, beta, api):
    promotion_create(code="FIRSTMIN", kind="first_session_seconds", free_seconds=60)
    call_id = _request(world, promo_code="FIRSTMIN").json()["id"]
    _talk(world, clock, call_id, 95)
    with schema_context("beta"):
        connection.tenant = beta
        make_advisor("nova@example.test", display_name="Nova")
        make_caller("bea@example.test")
        nova = User.objects.get(email="nova@example.test").advisor.pk
    bea = (
        api("beta")
        .post("/api/v1/auth/token", {"email": "bea@example.test", "password": PASSWORD})
        .json()["access"]
    )
    refused = api("beta").post(
        "/api/v1/calls", {"advisor_id": nova, "promo_code": "FIRSTMIN"}, token=bea
    )
    assert refused.status_code == 422 and refused.json()["code"] == "promo_code_invalid"
    # Alpha's caller cannot read or use beta's side either.
    assert api("beta").get("/api/v1/admin/promotions", token=world.caller_token).status_code == 401
    with schema_context("beta"):
        assert account_for(kind=AccountKind.PROMOTION_CREDIT).balance_minor == 0
        assert not PromotionUse.objects.exists() and not Call.objects.exists()
    connection.set_tenant(world.licensee)
    assert _promotion_credit() == -200


def test_a_top_up_code_does_not_apply_to_a_session(world):
    promotion_create(code="WELCOME10", kind="topup_percent", percent=10)
    refused = _request(world, promo_code="WELCOME10")
    assert refused.status_code == 422 and refused.json()["code"] == "promo_code_invalid"
    assert not Call.objects.exists()
