"""Connect Express onboarding: one account per advisor, a fresh link each time, and the
account's state kept current by Stripe's signed `account.updated` webhooks."""

from __future__ import annotations

import json

import pytest

from tenant_apps.payments.models import StripeEvent
from tenant_apps.payouts.models import PayoutAccount
from tests.factories import stripe_posts_watched
from tests.tenant_apps.payouts.conftest import make_advisor, stripe_client

pytestmark = pytest.mark.django_db


def test_onboarding_creates_one_express_account_and_mints_a_fresh_link_each_time(payouts, luna):
    advisor, token = luna
    first = payouts.post("/api/v1/advisor/payouts/onboarding", token)
    assert first.status_code == 201, first.content
    second = payouts.post("/api/v1/advisor/payouts/onboarding", token)
    assert second.status_code == 201
    account = PayoutAccount.objects.get(advisor=advisor)
    assert account.stripe_account_id.startswith("acct_")
    assert account.stripe_account_id in first.json()["url"]
    assert first.json()["expires_at"] and second.json()["expires_at"]
    connected = stripe_client(payouts.creds).v1.accounts.retrieve(account.stripe_account_id)
    assert connected["type"] == "express"
    assert connected.to_dict()["capabilities"] == {"transfers": "inactive"}
    state = payouts.get("/api/v1/advisor/payouts", token).json()
    assert state["onboarding_status"] == "incomplete"
    assert state["payouts_enabled"] is False
    assert "external_account" in state["requirements"]
    assert state["next_payout"]["blocked_by"] == "not_onboarded"


def test_account_updated_webhook_enables_payouts(payouts, luna):
    advisor, token = luna
    payouts.post("/api/v1/advisor/payouts/onboarding", token)
    account_id = PayoutAccount.objects.get(advisor=advisor).stripe_account_id
    payouts.stripe.complete_onboarding(account_id)
    event_id = payouts.latest_event("account.updated")
    assert payouts.deliver(event_id) == "payouts enabled"
    assert StripeEvent.objects.get(event_id=event_id).outcome == "payouts enabled"
    account = PayoutAccount.objects.get(advisor=advisor)
    assert account.payouts_enabled and account.details_submitted
    assert account.requirements == []
    state = payouts.get("/api/v1/advisor/payouts", token).json()
    assert state["onboarding_status"] == "complete"
    assert state["payouts_enabled"] is True
    assert state["schedule"] == "daily" and state["clearing_days"] == 0


def test_an_older_account_state_arriving_late_changes_nothing(payouts, luna):
    advisor, token = luna
    payouts.onboard(advisor, token)
    event = payouts.stripe.events(payouts.creds["account_id"], "account.updated")[0]
    stale = event["data"]["object"] | {"payouts_enabled": False}
    from tenant_apps.payouts import services

    outcome = services.payout_account_sync(
        account_id=event["account"], account=stale, occurred_at=event["created"] - 60
    )
    assert outcome == "ignored: older than the state we hold"
    assert PayoutAccount.objects.get(advisor=advisor).payouts_enabled


def test_account_updates_for_unknown_accounts_are_ignored(payouts):
    from tenant_apps.payouts import services

    assert (
        services.payout_account_sync(
            account_id="acct_someoneelse", account={"id": "acct_someoneelse"}, occurred_at=None
        )
        == "ignored: not one of our advisors' accounts"
    )


def test_onboarding_needs_the_licensees_stripe(api, alpha, make_user):
    from django.db import connection

    connection.set_tenant(alpha)
    make_advisor("nostripe@example.test")
    token = (
        api("alpha")
        .post(
            "/api/v1/auth/token",
            {"email": "nostripe@example.test", "password": "Velvet-Compass-2031"},
        )
        .json()["access"]
    )
    response = api("alpha").post("/api/v1/advisor/payouts/onboarding", token=token)
    assert response.status_code == 409
    assert response.json()["code"] == "stripe_not_connected"


def test_only_advisors_onboard(payouts, make_user):
    make_user("alpha", "enduser@example.test")
    token = payouts.token("enduser@example.test")
    assert payouts.post("/api/v1/advisor/payouts/onboarding", token).status_code == 403
    assert payouts.get("/api/v1/advisor/payouts", None).status_code == 401


def test_a_bad_webhook_signature_is_refused(payouts, luna):
    advisor, token = luna
    payouts.post("/api/v1/advisor/payouts/onboarding", token)
    payouts.stripe.complete_onboarding(PayoutAccount.objects.get(advisor=advisor).stripe_account_id)
    payload, _ = payouts.stripe.signed_event(payouts.latest_event("account.updated"))
    response = payouts.api("alpha").client.post(
        "/webhooks/stripe/connect",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=" + "0" * 64,
    )
    assert response.status_code == 400
    payouts.enter()
    assert not StripeEvent.objects.filter(event_id=json.loads(payload)["id"]).exists()


def test_onboarding_asks_stripe_with_no_transaction_open(payouts, luna):
    """Stripe may be slow or down: the account is created outside any transaction and row
    lock, and only its id is recorded under the advisor's lock afterwards."""
    from tenant_apps.payouts import services

    advisor, _ = luna
    with stripe_posts_watched(payouts.stripe) as seen:
        link = services.payout_onboarding_start(advisor=advisor, origin="http://alpha.localhost")
    assert [path for path, _ in seen] == ["/v1/accounts", "/v1/account_links"]
    assert all(depth == 0 for _, depth in seen), seen
    account = PayoutAccount.objects.get(advisor=advisor)
    assert account.stripe_account_id and account.stripe_account_id in link.url
