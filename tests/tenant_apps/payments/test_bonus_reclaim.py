"""Partial refunds of a bonus top-up reclaim the bonus cumulatively, so the sum of the
reclaims is exactly the bonus share of the refunded total; goodwill keys refuse mismatches."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenant_apps.payments.models import CreditGrant, TopUp, TopUpPackage
from tenant_apps.payments.services import bonus_reclaim_due
from tenant_apps.wallets import selectors as wallet_selectors
from tenant_apps.wallets.models import AccountKind, LedgerEntry
from tests.tenant_apps.payments.test_topups import _pay, _topup, _wallet

pytestmark = pytest.mark.django_db


def test_three_refunds_of_a_third_reclaim_the_whole_bonus_not_99():
    reclaimed = 0
    for refunded_total in (100, 200, 300):
        reclaimed += bonus_reclaim_due(
            bonus_minor=100,
            amount_minor=300,
            refunded_total_minor=refunded_total,
            reclaimed_minor=reclaimed,
        )
    assert reclaimed == 100
    # Each step is the share of the total so far, less what was taken before: 33, 33, 34.
    assert (
        bonus_reclaim_due(
            bonus_minor=100, amount_minor=300, refunded_total_minor=200, reclaimed_minor=33
        )
        == 33
    )


def test_partial_refunds_through_stripe_reclaim_exactly_the_bonus_share(
    api, tokens, stripe, alpha_stripe, people
):
    with schema_context("alpha"):
        TopUpPackage.objects.create(code="p300", name="p", amount_minor=300, bonus_minor=100)
    topup_id = _topup(api, tokens["caller"], package="p300").json()["id"]
    _pay(api, stripe, alpha_stripe, topup_id)
    assert _wallet(api, tokens["caller"])["available"] == 400
    for expected_available in (267, 134, 0):
        response = api("alpha").post(
            f"/api/v1/admin/topups/{topup_id}/refund",
            {"amount": 100, "reason": "part"},
            token=tokens["admin"],
        )
        assert response.status_code == 201, response.content
        assert _wallet(api, tokens["caller"])["available"] == expected_available
    with schema_context("alpha"):
        topup = TopUp.objects.get(pk=topup_id)
        assert (topup.refunded_minor, topup.bonus_reclaimed_minor) == (300, 100)
        promo_back = LedgerEntry.objects.filter(
            account__kind=AccountKind.PROMO, transaction__kind="refund"
        ).values_list("amount_minor", flat=True)
        assert sorted(promo_back) == [33, 33, 34]
        assert wallet_selectors.ledger_verify() == []


def test_a_goodwill_key_reused_for_another_amount_or_user_is_409(api, tokens, people, make_user):
    path = f"/api/v1/admin/users/{people['caller'].pk}/credits"
    body = {"amount": 750, "reason": "Dropped call", "idempotency_key": "ticket-7"}
    assert api("alpha").post(path, body, token=tokens["admin"]).status_code == 201
    response = api("alpha").post(path, body | {"amount": 900}, token=tokens["admin"])
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This idempotency key was already used for a different credit.",
        "code": "idempotency_mismatch",
        "field": "idempotency_key",
    }
    other = make_user("alpha", "other@example.test")
    response = api("alpha").post(
        f"/api/v1/admin/users/{other.pk}/credits", body, token=tokens["admin"]
    )
    assert response.status_code == 409
    assert _wallet(api, tokens["caller"])["available"] == 750
    with schema_context("alpha"):
        assert CreditGrant.objects.count() == 1
