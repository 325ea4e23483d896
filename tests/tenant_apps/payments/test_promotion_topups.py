"""Promotion codes on top-ups: the bonus is ledgered as promotion credit when Stripe says the
top-up was paid, the code's limits hold, and a refund claws the bonus back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.payments.models import TopUp
from tenant_apps.promotions.models import PromotionUse
from tenant_apps.promotions.services import promotion_create
from tenant_apps.wallets import selectors as wallet_selectors
from tenant_apps.wallets.services import account_for
from tests.factories import PASSWORD
from tests.tenant_apps.payments.conftest import connect_to_sandbox
from tests.tenant_apps.payments.test_topups import _pay, _topup, _wallet
from tests.tenant_apps.webapp.conftest import client_for

pytestmark = pytest.mark.django_db


def _promotion_credit() -> int:
    with schema_context("alpha"):
        return account_for(kind="promotion_credit").balance_minor


def _welcome(api, tokens, **extra):
    body = {"code": "welcome10", "kind": "topup_percent", "percent": 10} | extra
    return api("alpha").post("/api/v1/admin/promotions", body, token=tokens["admin"])


def test_welcome10_adds_ten_percent_once_as_promotion_credit(
    api, tokens, stripe, alpha_stripe, people
):
    created = _welcome(api, tokens)
    assert created.status_code == 201, created.content
    assert created.json()["code"] == "WELCOME10" and created.json()["max_uses_per_user"] == 1

    topup = _topup(api, tokens["caller"], amount=2_000, promo_code="welcome10")
    assert topup.status_code == 201, topup.content
    assert topup.json()["promotion_bonus"] == 200
    assert _wallet(api, tokens["caller"])["available"] == 0  # nothing before Stripe says paid
    _pay(api, stripe, alpha_stripe, topup.json()["id"])
    assert _wallet(api, tokens["caller"])["available"] == 2_200
    assert _promotion_credit() == -200  # what the code gave, on an account of its own

    again = _topup(api, tokens["caller"], amount=2_000, promo_code="WELCOME10")
    assert again.status_code == 409
    assert again.json() == {
        "detail": "You have already used this code.",
        "code": "promo_code_used",
        "field": "promo_code",
    }
    with schema_context("alpha"):
        assert TopUp.objects.count() == 1  # the refused top-up left nothing behind
        assert wallet_selectors.ledger_verify() == []

    listed = api("alpha").get("/api/v1/admin/promotions", token=tokens["admin"]).json()
    assert (listed[0]["uses"], listed[0]["bonus_credited"]) == (1, 200)
    own = api("alpha").get("/api/v1/me/export", token=tokens["caller"]).json()
    assert [(u["code"], u["bonus"]) for u in own["promotion_codes"]] == [("WELCOME10", 200)]
    report = client_for("alpha", people["admin"]).get("/dashboard/").content.decode()
    assert 'data-kpi="promotion_credit">€2.00 (1 use)' in report


def test_a_refund_claws_the_promotion_bonus_back(api, tokens, stripe, alpha_stripe):
    _welcome(api, tokens)
    topup_id = _topup(api, tokens["caller"], amount=2_000, promo_code="WELCOME10").json()["id"]
    _pay(api, stripe, alpha_stripe, topup_id)
    half = api("alpha").post(
        f"/api/v1/admin/topups/{topup_id}/refund",
        {"amount": 1_000, "reason": "half back"},
        token=tokens["admin"],
    )
    assert half.status_code == 201, half.content
    assert _wallet(api, tokens["caller"])["available"] == 2_200 - 1_000 - 100
    assert _promotion_credit() == -100
    rest = api("alpha").post(
        f"/api/v1/admin/topups/{topup_id}/refund", {"reason": "the rest"}, token=tokens["admin"]
    )
    assert rest.status_code == 201, rest.content
    assert _wallet(api, tokens["caller"])["available"] == 0
    assert _promotion_credit() == 0
    with schema_context("alpha"):
        assert wallet_selectors.ledger_verify() == []


def test_limits_windows_and_kinds_are_enforced(api, tokens, stripe, alpha_stripe, make_user):
    fixed = _welcome(api, tokens, code="FIVER", kind="topup_fixed", amount=500, max_uses_total=1)
    assert fixed.status_code == 201, fixed.content
    assert (
        _topup(api, tokens["caller"], amount=1_000, promo_code="FIVER").json()["promotion_bonus"]
        == 500
    )
    make_user("alpha", "second@example.test")
    second = (
        api("alpha")
        .post("/api/v1/auth/token", {"email": "second@example.test", "password": PASSWORD})
        .json()["access"]
    )
    used_up = _topup(api, second, amount=1_000, promo_code="FIVER")
    assert used_up.status_code == 409 and used_up.json()["detail"] == "This code has been used up."

    with schema_context("alpha"):
        promotion_create(
            code="LATE",
            kind="topup_percent",
            percent=50,
            starts_at=timezone.now() - timedelta(days=10),
            ends_at=timezone.now() - timedelta(days=1),
        )
        promotion_create(code="FREEMIN", kind="first_session_seconds", free_seconds=60)
    for code in ("LATE", "FREEMIN", "NOSUCH"):
        refused = _topup(api, second, amount=1_000, promo_code=code)
        assert refused.status_code == 422 and refused.json()["code"] == "promo_code_invalid"
    with schema_context("alpha"):
        assert not PromotionUse.objects.filter(user__email="second@example.test").exists()


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"code": "ZERO", "kind": "topup_percent", "percent": 0}, 422, "percent"),
        ({"code": "NONE", "kind": "topup_fixed"}, 422, "amount"),
        ({"code": "a b", "kind": "topup_fixed", "amount": 5}, 422, "code"),
        ({"code": "NUL\x00", "kind": "topup_fixed", "amount": 5}, 422, "code"),
        (
            {
                "code": "BACKWARDS",
                "kind": "topup_fixed",
                "amount": 5,
                "starts_at": "2030-01-02T00:00:00Z",
                "ends_at": "2030-01-01T00:00:00Z",
            },
            422,
            "ends_at",
        ),
        ({"code": "WELCOME10", "kind": "topup_fixed", "amount": 5}, 409, "code"),
    ],
)
def test_bad_promotions_are_refused(api, tokens, body, status, field):
    _welcome(api, tokens)
    response = api("alpha").post("/api/v1/admin/promotions", body, token=tokens["admin"])
    assert response.status_code == status, response.content
    assert response.json()["field"] == field


def test_only_admins_of_this_licensee_see_and_make_codes(
    api, tokens, make_user, alpha_stripe, stripe, beta
):
    _welcome(api, tokens)
    assert (
        api("alpha")
        .post(
            "/api/v1/admin/promotions",
            {"code": "MINE", "kind": "topup_fixed", "amount": 5},
            token=tokens["caller"],
        )
        .status_code
        == 403
    )
    make_user("beta", "admin@example.test", role="admin")
    beta_admin = (
        api("beta")
        .post("/api/v1/auth/token", {"email": "admin@example.test", "password": PASSWORD})
        .json()["access"]
    )
    assert api("beta").get("/api/v1/admin/promotions", token=beta_admin).json() == []
    assert api("beta").get("/api/v1/admin/promotions", token=tokens["admin"]).status_code == 401
    make_user("beta", "caller@example.test")
    beta_caller = (
        api("beta")
        .post("/api/v1/auth/token", {"email": "caller@example.test", "password": PASSWORD})
        .json()["access"]
    )
    connect_to_sandbox(stripe, beta, admin=None)
    # Alpha's code means nothing at beta.
    response = api("beta").post(
        "/api/v1/wallet/topups", {"amount": 2_000, "promo_code": "WELCOME10"}, token=beta_caller
    )
    assert response.status_code == 422 and response.json()["code"] == "promo_code_invalid"


def test_partial_refunds_claw_back_the_whole_bonus_and_no_more(api, tokens, stripe, alpha_stripe):
    _welcome(api, tokens)
    topup_id = _topup(api, tokens["caller"], amount=2_000, promo_code="WELCOME10").json()["id"]
    _pay(api, stripe, alpha_stripe, topup_id)
    refund = f"/api/v1/admin/topups/{topup_id}/refund"
    for amount in (333, 333):
        done = api("alpha").post(
            refund, {"amount": amount, "reason": "part"}, token=tokens["admin"]
        )
        assert done.status_code == 201, done.content
    assert _promotion_credit() == -200 + 66  # the bonus share of €6.66, rounded down once
    api("alpha").post(refund, {"reason": "the rest"}, token=tokens["admin"])
    # Counted on the refunded total, the three reclaims add up to the bonus exactly.
    assert _promotion_credit() == 0
    assert _wallet(api, tokens["caller"])["available"] == 0
    listed = api("alpha").get("/api/v1/admin/promotions", token=tokens["admin"]).json()
    assert (listed[0]["bonus_credited"], listed[0]["reclaimed"]) == (200, 200)
    with schema_context("alpha"):
        assert wallet_selectors.ledger_verify() == []


def test_closing_the_account_returns_a_code_bonus_to_promotion_credit(
    api, tokens, stripe, alpha_stripe, people
):
    _welcome(api, tokens)
    topup_id = _topup(api, tokens["caller"], amount=2_000, promo_code="WELCOME10").json()["id"]
    _pay(api, stripe, alpha_stripe, topup_id)
    with schema_context("alpha"):
        promo_before = account_for(kind="promo").balance_minor
    closed = api("alpha").delete("/api/v1/me", {"password": PASSWORD}, token=tokens["caller"])
    assert closed.status_code == 200, closed.content
    assert closed.json()["credit"]["promotional_returned"] == 200
    assert _promotion_credit() == 0  # back where it came from, not to the other promotions
    with schema_context("alpha"):
        assert account_for(kind="promo").balance_minor == promo_before
        assert PromotionUse.objects.get().reclaimed_minor == 200
        assert wallet_selectors.ledger_verify() == []
    report = client_for("alpha", people["admin"]).get("/dashboard/").content.decode()
    assert 'data-kpi="promotion_credit">€0.00 (1 use)' in report
