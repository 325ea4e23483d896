"""Free seconds from a promotion code, on a caller's first session with an advisor."""

from __future__ import annotations

import pytest

from tenant_apps.calls.models import Call
from tenant_apps.promotions.models import PromotionUse
from tenant_apps.promotions.services import promotion_create

pytestmark = pytest.mark.django_db


def _request(world, **extra):
    return world.post("/api/v1/calls", world.caller_token, {"advisor_id": world.advisor.pk} | extra)


def test_a_first_session_code_gives_free_seconds_once_per_advisor(world, clock):
    promotion_create(
        code="FIRSTMIN", kind="first_session_seconds", free_seconds=60, max_uses_per_user=3
    )
    call = _request(world, promo_code="firstmin")
    assert call.status_code == 201, call.content
    assert call.json()["free_seconds"] == 60
    world.post(f"/api/v1/calls/{call.json()['id']}/accept", world.advisor_token)
    world.both_join(Call.objects.get(pk=call.json()["id"]).room_name)
    clock.advance(95)
    ended = world.post(f"/api/v1/calls/{call.json()['id']}/hangup", world.caller_token).json()
    assert (ended["talk_seconds"], ended["cost"]) == (95, 117)  # 35 s at €2.00/min
    assert PromotionUse.objects.get().call_id == call.json()["id"]

    # The caller has talked to Luna now: the code is for first sessions only.
    again = _request(world, promo_code="FIRSTMIN")
    assert again.status_code == 422 and again.json()["field"] == "promo_code"
    assert world.wallet().held_minor == 0  # the refused request held nothing
    assert PromotionUse.objects.count() == 1


def test_a_top_up_code_does_not_apply_to_a_session(world):
    promotion_create(code="WELCOME10", kind="topup_percent", percent=10)
    refused = _request(world, promo_code="WELCOME10")
    assert refused.status_code == 422 and refused.json()["code"] == "promo_code_invalid"
    assert not Call.objects.exists()
