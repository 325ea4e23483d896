"""An admin refund is booked and recorded before Stripe is asked, with no lock held during
the call; Stripe's answer settles it; one whose answer never came is asked again with the
same idempotency key; one Stripe refused is reversed entry for entry."""

from __future__ import annotations

import socket

import pytest
import stripe as stripe_sdk
from django.conf import settings as django_settings
from django_tenants.utils import schema_context

from tenant_apps.payments import services
from tenant_apps.payments.models import Refund, TopUp
from tenant_apps.wallets import selectors as wallet_selectors
from tests.tenant_apps.payments.test_topups import _pay, _topup, _wallet, dashboard_refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(api, tokens, stripe, alpha_stripe):
    topup_id = _topup(api, tokens["caller"], amount=2_000).json()["id"]
    _pay(api, stripe, alpha_stripe, topup_id)
    return topup_id


def _refunds_at_stripe(creds) -> list:
    client = stripe_sdk.StripeClient(
        creds["secret_key"], base_addresses={"api": django_settings.STRIPE_API_BASE}
    )
    return list(client.v1.refunds.list().data)


def test_a_refund_stripe_did_not_answer_stays_pending_and_is_asked_again_once(
    api, tokens, alpha_stripe, paid, settings
):
    reachable = settings.STRIPE_API_BASE
    with socket.socket() as hole:  # a paused Stripe
        hole.bind(("127.0.0.1", 0))
        hole.listen(8)
        settings.STRIPE_API_BASE = f"http://127.0.0.1:{hole.getsockname()[1]}"
        settings.STRIPE_TIMEOUT_SECONDS = 0.5
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        response = api("alpha").post(
            f"/api/v1/admin/topups/{paid}/refund",
            {"amount": 500, "reason": "Unhappy"},
            token=tokens["admin"],
        )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending" and response.json()["stripe_refund_id"] is None
    assert _wallet(api, tokens["caller"])["available"] == 1_500  # booked at once
    settings.STRIPE_API_BASE = reachable
    with schema_context("alpha"):
        assert services.refunds_pending_retry(older_than_seconds=0) == 1
        refund = Refund.objects.get()
        assert refund.status == "succeeded" and refund.stripe_refund_id.startswith("re_")
        assert services.refunds_pending_retry(older_than_seconds=0) == 0
        assert TopUp.objects.get(pk=paid).refunded_minor == 500
        assert wallet_selectors.ledger_verify() == []
    assert [r.amount for r in _refunds_at_stripe(alpha_stripe)] == [500]


def test_a_refund_stripe_refuses_is_reversed(api, tokens, alpha_stripe, paid):
    with schema_context("alpha"):
        intent = TopUp.objects.get(pk=paid).payment_intent_id
    dashboard_refund(alpha_stripe, intent)  # all of it, in Stripe's dashboard; no event yet
    response = api("alpha").post(
        f"/api/v1/admin/topups/{paid}/refund", {"amount": 500, "reason": "x"}, token=tokens["admin"]
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "failed"
    assert _wallet(api, tokens["caller"])["available"] == 2_000  # the booking was reversed
    with schema_context("alpha"):
        refund = Refund.objects.get()
        assert "Stripe refused" in refund.failure_message
        assert TopUp.objects.get(pk=paid).refunded_minor == 0
        assert wallet_selectors.ledger_verify() == []


def test_another_licensees_admin_cannot_refund_alphas_top_up(api, tokens, paid, beta, make_user):
    make_user("beta", "boss@beta.test", role="admin")
    token = api("beta").post(
        "/api/v1/auth/token", {"email": "boss@beta.test", "password": "Velvet-Compass-2031"}
    )
    response = api("beta").post(
        f"/api/v1/admin/topups/{paid}/refund",
        {"amount": 500, "reason": "x"},
        token=token.json()["access"],
    )
    assert response.status_code in (404, 409)
    with schema_context("alpha"):
        assert not Refund.objects.exists()
