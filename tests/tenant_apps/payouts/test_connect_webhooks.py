"""Stripe Connect as Stripe does it: connected accounts' events arrive at the licensee's
Connect endpoint, signed with that endpoint's own secret and routed by the event's top-level
`account` to the advisor; and Stripe is asked for the account itself before every payout."""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection

from sandboxes.stripe_sandbox import sign
from tenant_apps.payments.models import StripeEvent
from tenant_apps.payouts import services
from tenant_apps.payouts.models import Payout, PayoutAccount
from tests.tenant_apps.payments.conftest import connect_to_sandbox
from tests.tenant_apps.payouts.conftest import make_advisor, settle_call

pytestmark = pytest.mark.django_db

CONNECT = "/webhooks/stripe/connect"


def _account_updated(account_id: str, *, payouts_enabled: bool = True) -> bytes:
    """A signed-to-be `account.updated` for a connected account, as Stripe renders one."""
    return json.dumps(
        {
            "id": f"evt_test_{account_id}_{payouts_enabled}",
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "account": account_id,
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": "account.updated",
            "data": {
                "object": {
                    "id": account_id,
                    "object": "account",
                    "type": "express",
                    "details_submitted": True,
                    "payouts_enabled": payouts_enabled,
                    "charges_enabled": payouts_enabled,
                    "requirements": {"currently_due": [], "past_due": [], "disabled_reason": None},
                    "metadata": {},
                },
                "previous_attributes": {"payouts_enabled": not payouts_enabled},
            },
        }
    ).encode()


def _post(payouts, payload: bytes, secret: str, slug: str = "alpha", path: str = CONNECT):
    response = payouts.api(slug).client.post(
        path, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload, secret)
    )
    payouts.enter()
    return response


def _started(payouts, luna) -> str:
    advisor, token = luna
    assert payouts.post("/api/v1/advisor/payouts/onboarding", token).status_code == 201
    return PayoutAccount.objects.get(advisor=advisor).stripe_account_id


def test_a_connect_event_with_the_connect_secret_makes_the_advisor_payable(payouts, luna):
    advisor, _ = luna
    account_id = _started(payouts, luna)
    payload = _account_updated(account_id)
    response = _post(payouts, payload, payouts.creds["connect_webhook_secret"])
    assert response.status_code == 200, response.content
    event = StripeEvent.objects.get(event_id=json.loads(payload)["id"])
    assert event.account == account_id
    from tenant_apps.payments import services as payment_services

    assert payment_services.stripe_event_process(event_id=event.event_id) == "payouts enabled"
    assert PayoutAccount.objects.get(advisor=advisor).payouts_enabled


def test_the_same_event_signed_with_the_ordinary_secret_is_refused(payouts, luna):
    account_id = _started(payouts, luna)
    payload = _account_updated(account_id)
    response = _post(payouts, payload, payouts.creds["webhook_secret"])
    assert response.status_code == 400
    assert response.json()["code"] == "bad_webhook"
    assert not StripeEvent.objects.filter(event_id=json.loads(payload)["id"]).exists()
    assert not PayoutAccount.objects.get(stripe_account_id=account_id).payouts_enabled


def test_a_connect_event_at_the_account_endpoint_is_not_acted_on(payouts, luna):
    """Stripe never sends a connected account's event to an account endpoint; one that
    arrives there (the ordinary secret) does not touch payouts."""
    account_id = _started(payouts, luna)
    payload = _account_updated(account_id)
    response = _post(payouts, payload, payouts.creds["webhook_secret"], path="/webhooks/stripe")
    assert response.status_code == 200
    from tenant_apps.payments import services as payment_services

    outcome = payment_services.stripe_event_process(event_id=json.loads(payload)["id"])
    assert outcome.startswith("ignored")
    assert not PayoutAccount.objects.get(stripe_account_id=account_id).payouts_enabled


def test_a_connect_event_without_its_account_is_refused(payouts, luna):
    account_id = _started(payouts, luna)
    event = json.loads(_account_updated(account_id))
    del event["account"]
    response = _post(payouts, json.dumps(event).encode(), payouts.creds["connect_webhook_secret"])
    assert response.status_code == 400
    assert response.json() == {
        "detail": "A Connect event names its connected account in `account`.",
        "code": "bad_webhook",
        "field": None,
    }


def test_an_event_for_an_account_that_is_not_our_advisors_is_ignored(payouts, luna):
    _started(payouts, luna)
    payload = _account_updated("acct_1NotOneOfOurs")
    assert _post(payouts, payload, payouts.creds["connect_webhook_secret"]).status_code == 200
    from tenant_apps.payments import services as payment_services

    outcome = payment_services.stripe_event_process(event_id=json.loads(payload)["id"])
    assert outcome == "ignored: not one of our advisors' accounts"
    assert not PayoutAccount.objects.filter(payouts_enabled=True).exists()


def test_without_a_connect_secret_the_connect_endpoint_refuses_everything(payouts, luna):
    account_id = _started(payouts, luna)
    from tenant_apps.payments.models import StripeConnection

    StripeConnection.objects.update(connect_webhook_secret_encrypted="")
    response = _post(payouts, _account_updated(account_id), payouts.creds["webhook_secret"])
    assert response.status_code == 400


def test_another_licensees_connect_events_never_reach_alpha(payouts, luna, beta):
    """Beta's Connect endpoint refuses alpha's signature; an event about alpha's advisor,
    signed with beta's own Connect secret, is ignored at beta and changes nothing at alpha."""
    advisor, _ = luna
    account_id = _started(payouts, luna)
    beta_creds = connect_to_sandbox(payouts.stripe, beta)
    payload = _account_updated(account_id)
    assert _post(payouts, payload, payouts.creds["connect_webhook_secret"], "beta").status_code == (
        400
    )
    response = _post(payouts, payload, beta_creds["connect_webhook_secret"], "beta")
    assert response.status_code == 200
    connection.set_tenant(beta)
    from tenant_apps.payments import services as payment_services

    outcome = payment_services.stripe_event_process(event_id=json.loads(payload)["id"])
    assert outcome == "ignored: not one of our advisors' accounts"
    payouts.enter()
    assert not StripeEvent.objects.exists()
    assert not PayoutAccount.objects.get(advisor=advisor).payouts_enabled


def test_the_connect_secret_is_set_by_put_and_only_ever_returned_masked(payouts, admin_token):
    creds = payouts.creds
    body = {
        "secret_key": creds["secret_key"],
        "publishable_key": creds["publishable_key"],
        "webhook_secret": creds["webhook_secret"],
        "connect_webhook_secret": creds["connect_webhook_secret"],
    }
    response = payouts.put("/api/v1/admin/payments/stripe", admin_token, body)
    assert response.status_code == 200, response.content
    shown = payouts.get("/api/v1/admin/payments/stripe", admin_token)
    masked = shown.json()["connect_webhook_secret"]
    assert masked.endswith(creds["connect_webhook_secret"][-4:]) and "…" in masked
    assert creds["connect_webhook_secret"] not in shown.content.decode()
    same = payouts.put(
        "/api/v1/admin/payments/stripe", admin_token, body | {"connect_webhook_secret": None}
    )
    assert same.json()["connect_webhook_secret"] == masked  # kept when not given
    bad = payouts.put(
        "/api/v1/admin/payments/stripe",
        admin_token,
        body | {"connect_webhook_secret": creds["webhook_secret"]},
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "connect_webhook_secret"


def test_the_dashboard_shows_both_endpoints_with_their_events(payouts, api):
    from tenant_apps.payments import selectors

    endpoints = selectors.stripe_webhook_endpoints(origin="https://alpha.example.test")
    assert [(e["url"], e["connect"]) for e in endpoints] == [
        ("https://alpha.example.test/webhooks/stripe", False),
        ("https://alpha.example.test/webhooks/stripe/connect", True),
    ]
    assert "payment_intent.succeeded" in endpoints[0]["events"]
    assert "transfer.reversed" in endpoints[0]["events"]
    assert endpoints[1]["events"] == ["account.updated"]


def test_returning_from_onboarding_asks_stripe_without_waiting_for_the_webhook(payouts, luna):
    advisor, _ = luna
    account_id = _started(payouts, luna)
    payouts.stripe.complete_onboarding(account_id)  # its webhook is never delivered
    row = services.payout_account_refresh(advisor_id=advisor.pk)
    assert row is not None and row.payouts_enabled and row.details_submitted
    assert row.requirements == []


def test_the_payout_run_asks_stripe_for_the_account_first(payouts, luna):
    """An advisor whose `account.updated` never arrived is still paid: the run retrieves the
    account before paying."""
    advisor, _ = luna
    account_id = _started(payouts, luna)
    payouts.stripe.complete_onboarding(account_id)
    settle_call(advisor, talk_seconds=600)
    payouts.fund(10_000)
    report = services.payouts_run()
    assert report.paid == 1, report
    assert Payout.objects.get(advisor=advisor).status == Payout.Status.PAID
    other = make_advisor("nova@example.test", "Nova")
    PayoutAccount.objects.create(advisor=other, stripe_account_id="acct_1Vanished")
    settle_call(other, talk_seconds=600)
    report = services.payouts_run()
    assert report.unchecked == 1 and not Payout.objects.filter(advisor=other).exists()
