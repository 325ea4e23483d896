"""Refunds and credits by the licensee's admins; card disputes reported by Stripe."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenant_apps.payments import services
from tenant_apps.payments.models import CreditGrant, Dispute, Refund, TopUp
from tenant_apps.wallets import selectors as wallet_selectors
from tenant_apps.wallets import services as wallet_services
from tests.tenant_apps.payments.test_topups import (
    _deliver,
    _event,
    _pay,
    _topup,
    _wallet,
    dashboard_refund,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(api, tokens, stripe, alpha_stripe):
    """A €20.00 top-up the caller has paid."""
    topup_id = _topup(api, tokens["caller"], amount=2_000).json()["id"]
    _pay(api, stripe, alpha_stripe, topup_id)
    return topup_id


def _apply(stripe, api, account_id, event_type):
    event_id = _event(stripe, account_id, event_type)
    _deliver(api, stripe, event_id)
    with schema_context("alpha"):
        return services.stripe_event_process(event_id=event_id)


def test_admin_refunds_part_of_a_topup_through_stripe_once(
    api, tokens, stripe, alpha_stripe, paid, people
):
    response = api("alpha").post(
        f"/api/v1/admin/topups/{paid}/refund",
        {"amount": 500, "reason": "Unhappy with a call"},
        token=tokens["admin"],
    )
    assert response.status_code == 201, response.content
    assert response.json()["stripe_refund_id"].startswith("re_")
    assert _wallet(api, tokens["caller"])["available"] == 1_500
    # Stripe's own `charge.refunded` for that refund changes nothing more.
    assert _apply(stripe, api, alpha_stripe["account_id"], "charge.refunded") == "already booked"
    assert _wallet(api, tokens["caller"])["available"] == 1_500
    with schema_context("alpha"):
        refund = Refund.objects.get()
        assert refund.requested_by_id == people["admin"].pk
        assert refund.reason == "Unhappy with a call"
        assert wallet_selectors.ledger_verify() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 2_001, "reason": "x"}, "amount"),
        ({"reason": "  "}, "reason"),
        ({"amount": 0, "reason": "x"}, "amount"),
        ({"amount": 100}, "reason"),
    ],
)
def test_refund_bad_input_is_422(api, tokens, paid, body, field):
    response = api("alpha").post(f"/api/v1/admin/topups/{paid}/refund", body, token=tokens["admin"])
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert _wallet(api, tokens["caller"])["available"] == 2_000


def test_refund_is_limited_to_what_the_user_still_has(api, tokens, paid, people):
    with schema_context("alpha"):
        wallet_services.hold_place(
            user_id=people["caller"].pk,
            amount_minor=1_800,
            idempotency_key="call-hold",
            description="call",
        )
    response = api("alpha").post(
        f"/api/v1/admin/topups/{paid}/refund", {"amount": 500, "reason": "x"}, token=tokens["admin"]
    )
    assert response.status_code == 422
    assert "€2.00" in response.json()["detail"]


def test_only_admins_refund_and_only_their_own_licensees_topups(api, tokens, paid, make_user, beta):
    assert (
        api("alpha")
        .post(f"/api/v1/admin/topups/{paid}/refund", {"reason": "x"}, token=tokens["caller"])
        .status_code
        == 403
    )
    make_user("beta", "admin@example.test", role="admin")
    beta_token = (
        api("beta")
        .post(
            "/api/v1/auth/token", {"email": "admin@example.test", "password": "Velvet-Compass-2031"}
        )
        .json()["access"]
    )
    response = api("beta").post(
        f"/api/v1/admin/topups/{paid}/refund", {"reason": "x"}, token=beta_token
    )
    assert response.status_code in (404, 409)
    assert _wallet(api, tokens["caller"])["available"] == 2_000


def test_a_full_refund_reclaims_the_package_bonus(api, tokens, stripe, alpha_stripe, people):
    from tenant_apps.payments.models import TopUpPackage

    with schema_context("alpha"):
        TopUpPackage.objects.create(code="p", name="p", amount_minor=2_000, bonus_minor=200)
    topup_id = _topup(api, tokens["caller"], package="p").json()["id"]
    _pay(api, stripe, alpha_stripe, topup_id)
    api("alpha").post(
        f"/api/v1/admin/topups/{topup_id}/refund", {"reason": "mistake"}, token=tokens["admin"]
    )
    assert _wallet(api, tokens["caller"])["available"] == 0


def test_a_refund_after_the_money_was_spent_leaves_the_user_owing(
    api, tokens, stripe, alpha_stripe, paid, people
):
    with schema_context("alpha"):
        wallet_services.hold_place(
            user_id=people["caller"].pk,
            amount_minor=1_500,
            idempotency_key="call-hold",
            description="call",
        )
        topup = TopUp.objects.get(pk=paid)
    dashboard_refund(alpha_stripe, topup.payment_intent_id)  # all €20
    _apply(stripe, api, alpha_stripe["account_id"], "charge.refunded")
    wallet = _wallet(api, tokens["caller"])
    assert (wallet["available"], wallet["held"], wallet["owed"]) == (0, 1_500, 1_500)
    # The next top-up pays the debt first.
    next_topup = _topup(api, tokens["caller"], amount=2_000).json()["id"]
    _pay(api, stripe, alpha_stripe, next_topup)
    wallet = _wallet(api, tokens["caller"])
    assert (wallet["available"], wallet["owed"]) == (500, 0)
    with schema_context("alpha"):
        assert wallet_selectors.ledger_verify() == []


def test_a_dispute_freezes_the_amount_and_a_won_dispute_restores_it(
    api, tokens, stripe, alpha_stripe, paid
):
    with schema_context("alpha"):
        charge_id = TopUp.objects.get(pk=paid).charge_id
    assert charge_id
    dispute = stripe.dispute_charge(charge_id)
    assert _apply(stripe, api, alpha_stripe["account_id"], "charge.dispute.created") == "frozen"
    assert _wallet(api, tokens["caller"])["available"] == 0
    history = api("alpha").get("/api/v1/wallet/transactions", token=tokens["caller"]).json()
    frozen = history["results"][0]
    assert (frozen["description"], frozen["amount"]) == ("Card dispute: €20.00 frozen", -2_000)
    # Replayed: nothing more is frozen.
    assert _apply(stripe, api, alpha_stripe["account_id"], "charge.dispute.created") in (
        "frozen",
        "already open",
    )
    stripe.close_dispute(dispute["id"], "won")
    assert _apply(stripe, api, alpha_stripe["account_id"], "charge.dispute.closed") == "won"
    assert _wallet(api, tokens["caller"])["available"] == 2_000
    # The dispute is one line from its opening to its close: nothing lost in the end.
    history = api("alpha").get("/api/v1/wallet/transactions", token=tokens["caller"]).json()
    assert [(line["kind"], line["description"], line["amount"]) for line in history["results"]] == [
        ("dispute", "Card dispute won: credit restored", 0),
        ("topup", "Top-up €20.00", 2_000),
    ]
    with schema_context("alpha"):
        assert Dispute.objects.get().status == "won"
        assert wallet_selectors.ledger_verify() == []


def test_a_lost_dispute_after_spending_leaves_the_user_owing(
    api, tokens, stripe, alpha_stripe, paid, people
):
    with schema_context("alpha"):
        wallet_services.hold_place(
            user_id=people["caller"].pk,
            amount_minor=1_200,
            idempotency_key="call-hold",
            description="call",
        )
        charge_id = TopUp.objects.get(pk=paid).charge_id
    dispute = stripe.dispute_charge(charge_id)
    _apply(stripe, api, alpha_stripe["account_id"], "charge.dispute.created")
    wallet = _wallet(api, tokens["caller"])
    assert (wallet["available"], wallet["owed"]) == (0, 1_200)
    stripe.close_dispute(dispute["id"], "lost")
    assert _apply(stripe, api, alpha_stripe["account_id"], "charge.dispute.closed") == "lost"
    assert _wallet(api, tokens["caller"])["owed"] == 1_200
    with schema_context("alpha"):
        assert wallet_selectors.ledger_verify() == []


def test_admin_grants_goodwill_credit_once_per_key_with_an_audit_trail(api, tokens, people, stripe):
    path = f"/api/v1/admin/users/{people['caller'].pk}/credits"
    body = {"amount": 750, "reason": "Dropped call", "idempotency_key": "ticket-991"}
    first = api("alpha").post(path, body, token=tokens["admin"])
    again = api("alpha").post(path, body, token=tokens["admin"])
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert _wallet(api, tokens["caller"])["available"] == 750
    with schema_context("alpha"):
        grant = CreditGrant.objects.get()
        assert (grant.granted_by_id, grant.reason) == (people["admin"].pk, "Dropped call")
    lines = api("alpha").get("/api/v1/wallet/transactions", token=tokens["caller"]).json()
    assert lines["results"][0]["description"] == "Credit from Alpha Advice"


def test_credit_bad_input_and_foreign_users(api, tokens, people, stripe):
    path = f"/api/v1/admin/users/{people['caller'].pk}/credits"
    assert (
        api("alpha")
        .post(path, {"amount": -1, "reason": "x"}, token=tokens["admin"])
        .json()["field"]
        == "amount"
    )
    assert (
        api("alpha").post(path, {"amount": 5, "reason": " "}, token=tokens["admin"]).json()["field"]
        == "reason"
    )
    assert (
        api("alpha").post(path, {"amount": 5, "reason": "x"}, token=tokens["caller"]).status_code
        == 403
    )
    admin_path = f"/api/v1/admin/users/{people['admin'].pk}/credits"  # not an end user
    assert (
        api("alpha")
        .post(admin_path, {"amount": 5, "reason": "x"}, token=tokens["admin"])
        .status_code
        == 404
    )
