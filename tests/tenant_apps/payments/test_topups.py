"""Top-ups end to end through the Stripe sandbox and signed webhooks."""

from __future__ import annotations

import pytest
import stripe as stripe_sdk
import time_machine
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.payments import services
from tenant_apps.payments.models import StripeEvent, TopUp, TopUpPackage
from tenant_apps.wallets import selectors as wallet_selectors

pytestmark = pytest.mark.django_db


def _topup(api, token, **body):
    return api("alpha").post("/api/v1/wallet/topups", body, token=token)


def _deliver(api, stripe, event_id, slug="alpha", signature=None):
    payload, signed = stripe.signed_event(event_id)
    return api(slug).client.post(
        "/webhooks/stripe",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature or signed,
    )


def _event(stripe, account_id, event_type):
    return stripe.events(account_id, event_type)[0]["id"]


def _pay(api, stripe, creds, topup_id):
    """The customer pays; Stripe sends `payment_intent.succeeded`; our job applies it."""
    with schema_context("alpha"):
        intent = TopUp.objects.get(pk=topup_id).payment_intent_id
    stripe.succeed_payment_intent(intent)
    event_id = _event(stripe, creds["account_id"], "payment_intent.succeeded")
    assert _deliver(api, stripe, event_id).status_code == 200
    with schema_context("alpha"):
        services.stripe_event_process(event_id=event_id)
    return event_id


def dashboard_refund(creds, payment_intent, amount=None):
    """A refund made outside Callrix, in the licensee's Stripe dashboard."""
    client = stripe_sdk.StripeClient(
        creds["secret_key"], base_addresses={"api": settings.STRIPE_API_BASE}
    )
    params = {"payment_intent": payment_intent} | ({"amount": amount} if amount else {})
    client.v1.refunds.create(params=params)


def _wallet(api, token):
    return api("alpha").get("/api/v1/wallet", token=token).json()


def test_topups_are_refused_until_stripe_is_connected(api, tokens, stripe):
    response = _topup(api, tokens["caller"], amount=2_000)
    assert response.status_code == 409
    assert response.json()["code"] == "stripe_not_connected"
    with schema_context("alpha"):
        assert not TopUp.objects.exists()


def test_a_topup_returns_what_the_client_needs_to_pay(api, tokens, alpha_stripe):
    response = _topup(api, tokens["caller"], amount=2_000)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["amount"] == 2_000 and body["currency"] == "EUR"
    assert body["client_secret"].startswith(body["payment_intent"] + "_secret_")
    assert body["publishable_key"] == alpha_stripe["publishable_key"]
    assert _wallet(api, tokens["caller"])["available"] == 0  # nothing until Stripe says paid


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 499}, "amount"),
        ({"amount": 50_001}, "amount"),
        ({}, "amount"),
        ({"amount": 1_000, "package": "x"}, "amount"),
        ({"package": "nope"}, "package"),
        ({"amount": -5}, "amount"),
        ({"amount": "ten"}, "amount"),
    ],
)
def test_topup_bad_input_is_422_naming_the_field(api, tokens, alpha_stripe, body, field):
    response = _topup(api, tokens["caller"], **body)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    with schema_context("alpha"):
        assert not TopUp.objects.exists()


def test_admins_and_anonymous_cannot_top_up(api, tokens, alpha_stripe):
    assert _topup(api, tokens["admin"], amount=2_000).status_code == 403
    assert api("alpha").post("/api/v1/wallet/topups", {"amount": 2_000}).status_code == 401


def test_the_signed_success_webhook_credits_once_even_when_replayed(
    api, tokens, stripe, alpha_stripe, django_capture_on_commit_callbacks, mailoutbox
):
    topup_id = _topup(api, tokens["caller"], amount=2_000).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        event_id = _pay(api, stripe, alpha_stripe, topup_id)
    for _ in range(5):
        response = _deliver(api, stripe, event_id)
        assert response.status_code == 200 and response.json()["duplicate"] is True
        with schema_context("alpha"):
            services.stripe_event_process(event_id=event_id)
    wallet = _wallet(api, tokens["caller"])
    assert (wallet["balance"], wallet["available"], wallet["held"]) == (2_000, 2_000, 0)
    with schema_context("alpha"):
        assert StripeEvent.objects.filter(event_id=event_id).count() == 1
        assert wallet_selectors.ledger_verify() == []
    assert len(mailoutbox) == 1 and "ALPHA-T" in mailoutbox[0].body
    assert "€20.00" in mailoutbox[0].body


def test_a_package_credits_its_bonus_as_promo_credit(api, tokens, stripe, alpha_stripe):
    with schema_context("alpha"):
        TopUpPackage.objects.create(
            code="twenty", name="€20 + €2", amount_minor=2_000, bonus_minor=200
        )
    assert api("alpha").get("/api/v1/wallet/packages").json() == [
        {"code": "twenty", "name": "€20 + €2", "amount": 2_000, "bonus": 200}
    ]
    response = _topup(api, tokens["caller"], package="twenty")
    assert response.json()["amount"] == 2_000 and response.json()["bonus"] == 200
    _pay(api, stripe, alpha_stripe, response.json()["id"])
    assert _wallet(api, tokens["caller"])["available"] == 2_200
    lines = api("alpha").get("/api/v1/wallet/transactions", token=tokens["caller"]).json()
    # One line for the top-up and its bonus (the ledger has two postings).
    assert [(line["description"], line["amount"]) for line in lines["results"]] == [
        ("Top-up €20.00 + €2.00 bonus", 2_200)
    ]


def test_a_failed_payment_marks_the_topup_failed(api, tokens, stripe, alpha_stripe):
    topup_id = _topup(api, tokens["caller"], amount=2_000).json()["id"]
    with schema_context("alpha"):
        intent = TopUp.objects.get(pk=topup_id).payment_intent_id
    stripe.fail_payment_intent(intent)
    event_id = _event(stripe, alpha_stripe["account_id"], "payment_intent.payment_failed")
    _deliver(api, stripe, event_id)
    with schema_context("alpha"):
        services.stripe_event_process(event_id=event_id)
    topup = api("alpha").get(f"/api/v1/wallet/topups/{topup_id}", token=tokens["caller"]).json()
    assert topup["status"] == "failed"
    assert _wallet(api, tokens["caller"])["available"] == 0


def test_a_late_failure_never_undoes_a_success(api, tokens, stripe, alpha_stripe):
    topup_id = _topup(api, tokens["caller"], amount=2_000).json()["id"]
    with schema_context("alpha"):
        intent = TopUp.objects.get(pk=topup_id).payment_intent_id
    stripe.fail_payment_intent(intent)
    failed = _event(stripe, alpha_stripe["account_id"], "payment_intent.payment_failed")
    _pay(api, stripe, alpha_stripe, topup_id)
    _deliver(api, stripe, failed)
    with schema_context("alpha"):
        services.stripe_event_process(event_id=failed)
        assert TopUp.objects.get(pk=topup_id).status == "succeeded"
    assert _wallet(api, tokens["caller"])["available"] == 2_000


def test_bad_or_expired_signatures_are_400_and_store_nothing(api, tokens, stripe, alpha_stripe):
    topup_id = _topup(api, tokens["caller"], amount=2_000).json()["id"]
    with schema_context("alpha"):
        stripe.succeed_payment_intent(TopUp.objects.get(pk=topup_id).payment_intent_id)
    event_id = _event(stripe, alpha_stripe["account_id"], "payment_intent.succeeded")
    payload = stripe.event_payload(event_id)
    forged = stripe.sign(payload, "whsec_not_the_right_secret")
    expired = stripe.sign(payload, alpha_stripe["webhook_secret"], timestamp=1_000_000_000)
    for signature in (forged, expired, "t=1,v1=deadbeef", "garbage"):
        response = _deliver(api, stripe, event_id, signature=signature)
        assert response.status_code == 400
        assert response.json()["code"] == "bad_webhook"
    missing = api("alpha").client.post("/webhooks/stripe", payload, content_type="application/json")
    assert missing.status_code == 400
    with schema_context("alpha"):
        assert not StripeEvent.objects.exists()


def test_a_webhook_signed_for_alpha_is_refused_at_beta_and_never_touches_it(
    api, tokens, stripe, alpha_stripe, beta
):
    from tests.tenant_apps.payments.conftest import connect_to_sandbox

    connect_to_sandbox(stripe, beta)
    topup_id = _topup(api, tokens["caller"], amount=2_000).json()["id"]
    with schema_context("alpha"):
        stripe.succeed_payment_intent(TopUp.objects.get(pk=topup_id).payment_intent_id)
    event_id = _event(stripe, alpha_stripe["account_id"], "payment_intent.succeeded")
    response = _deliver(api, stripe, event_id, slug="beta")
    assert response.status_code == 400
    with schema_context("beta"):
        assert not StripeEvent.objects.exists()


def test_a_refund_event_before_the_success_event_waits_and_then_books_once(
    api, tokens, stripe, alpha_stripe
):
    topup_id = _topup(api, tokens["caller"], amount=2_000).json()["id"]
    with schema_context("alpha"):
        topup = TopUp.objects.get(pk=topup_id)
    stripe.succeed_payment_intent(topup.payment_intent_id)
    succeeded = _event(stripe, alpha_stripe["account_id"], "payment_intent.succeeded")
    # A refund made in the Stripe dashboard; its event overtakes the success event.
    dashboard_refund(alpha_stripe, topup.payment_intent_id, 500)
    refunded = _event(stripe, alpha_stripe["account_id"], "charge.refunded")
    _deliver(api, stripe, refunded)
    with schema_context("alpha"), pytest.raises(RuntimeError, match="retry"):
        services.stripe_event_process(event_id=refunded)
    _deliver(api, stripe, succeeded)
    with schema_context("alpha"):
        services.stripe_event_process(event_id=succeeded)
        services.stripe_event_process(event_id=refunded)
        services.stripe_event_process(event_id=refunded)
        assert wallet_selectors.ledger_verify() == []
    assert _wallet(api, tokens["caller"])["available"] == 1_500


def test_receipts_are_the_payers_own(api, tokens, stripe, alpha_stripe, make_user):
    topup_id = _topup(api, tokens["caller"], amount=2_000).json()["id"]
    assert (
        api("alpha")
        .get(f"/api/v1/wallet/topups/{topup_id}/receipt", token=tokens["caller"])
        .status_code
        == 404
    )  # not paid yet
    _pay(api, stripe, alpha_stripe, topup_id)
    receipt = api("alpha").get(f"/api/v1/wallet/topups/{topup_id}/receipt", token=tokens["caller"])
    assert receipt.status_code == 200
    assert receipt.json()["merchant"] == "Alpha Advice" and receipt.json()["amount"] == 2_000
    make_user("alpha", "other@example.test")
    other = api("alpha").post(
        "/api/v1/auth/token", {"email": "other@example.test", "password": "Velvet-Compass-2031"}
    )
    token = other.json()["access"]
    assert (
        api("alpha").get(f"/api/v1/wallet/topups/{topup_id}/receipt", token=token).status_code
        == 404
    )
    assert api("alpha").get(f"/api/v1/wallet/topups/{topup_id}", token=token).status_code == 404


def test_topups_are_throttled(api, tokens, alpha_stripe):
    traveller = time_machine.travel(timezone.now(), tick=False)  # one fixed window
    traveller.start()
    try:
        _topups_until_throttled(api, tokens)
    finally:
        traveller.stop()


def _topups_until_throttled(api, tokens):
    for _ in range(20):
        assert _topup(api, tokens["caller"], amount=1_000).status_code == 201
    response = _topup(api, tokens["caller"], amount=1_000)
    assert response.status_code == 429 and response["Retry-After"]
