"""Stripe's webhooks for Callrix's own account on the public host: verified, stored once,
applied idempotently whatever the order; invoices kept with their tax data for 7 years."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from sandboxes.stripe_sandbox import sign
from shared_apps.billing.errors import EventNotApplicable
from shared_apps.billing.models import BillingEvent, Invoice, Subscription
from shared_apps.billing.services import invoice_retain_until
from shared_apps.licensing import dunning

pytestmark = pytest.mark.django_db


def _post(payload: bytes, signature: str | None, host: str = "localhost"):
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return Client(HTTP_HOST=host).post(
        "/webhooks/stripe", payload, content_type="application/json", **headers
    )


@pytest.fixture
def pending(signup, callrix_stripe) -> dict:
    """A paid-plan sign-up waiting for its first payment."""
    body = signup().json()
    callrix_stripe.deliver_new()
    return body


def test_bad_signatures_are_refused_and_nothing_is_stored(pending, callrix_stripe, settings):
    callrix_stripe.sandbox.pay_invoice(pending["invoice"]["id"])
    paid = callrix_stripe.events("invoice.paid")[-1]
    payload = callrix_stripe.sandbox.event_payload(paid["id"])

    forged = _post(payload, sign(payload, "whsec_someone_else"))
    unsigned = _post(payload, None)
    stale = _post(payload, sign(payload, callrix_stripe.webhook_secret, timestamp=1_000_000))
    tampered = _post(
        payload.replace(b'"paid"', b'"void"'), sign(payload, callrix_stripe.webhook_secret)
    )
    settings.CALLRIX_STRIPE_WEBHOOK_SECRET = ""
    unconfigured = _post(payload, sign(payload, callrix_stripe.webhook_secret))

    for response in (forged, unsigned, stale, tampered, unconfigured):
        assert response.status_code == 400
        assert response.json()["code"] == "bad_webhook"
    assert not BillingEvent.objects.filter(event_id=paid["id"]).exists()


def test_callrix_signed_events_are_not_taken_on_a_licensee_host(pending, callrix_stripe, alpha):
    callrix_stripe.sandbox.pay_invoice(pending["invoice"]["id"])
    paid = callrix_stripe.events("invoice.paid")[-1]

    response = callrix_stripe.deliver(paid["id"], host="alpha.localhost")

    assert response.status_code == 400  # alpha's own Stripe webhook, not Callrix's
    assert not BillingEvent.objects.filter(event_id=paid["id"]).exists()


def test_a_replayed_event_is_stored_and_applied_once(pending, callrix_stripe):
    callrix_stripe.sandbox.pay_invoice(pending["invoice"]["id"])
    paid = callrix_stripe.events("invoice.paid")[-1]["id"]

    first = callrix_stripe.deliver(paid)
    again = [callrix_stripe.deliver(paid) for _ in range(3)]
    outcomes = {callrix_stripe.apply(paid) for _ in range(3)}

    assert first.json() == {"received": True, "duplicate": False}
    assert all(response.json()["duplicate"] for response in again)
    assert BillingEvent.objects.filter(event_id=paid).count() == 1
    assert len(outcomes) == 1 and "provisioned aurora-psy" in outcomes.pop()
    assert Invoice.objects.filter(stripe_invoice_id=pending["invoice"]["id"]).count() == 1
    assert Subscription.objects.get().licensee.slug == "aurora-psy"


def test_events_out_of_order_never_move_an_invoice_or_a_subscription_back(pending, callrix_stripe):
    sandbox = callrix_stripe.sandbox
    subscription_id = pending["subscription"]["id"]
    sandbox.pay_invoice(pending["invoice"]["id"])
    renewal = sandbox.advance_subscription(subscription_id, outcome="fail")
    sandbox.pay_invoice(renewal["id"])
    events = [
        event for event in callrix_stripe.events() if event["id"] not in callrix_stripe.delivered
    ]
    failed = next(e for e in events if e["type"] == "invoice.payment_failed")
    past_due = next(
        e
        for e in events
        if e["type"] == "customer.subscription.updated"
        and e["data"]["object"]["status"] == "past_due"
    )

    # Newest first: every event arrives after the ones that followed it.
    for event in reversed(events):
        assert callrix_stripe.deliver(event["id"]).status_code == 200
        callrix_stripe.apply(event["id"])

    subscription = Subscription.objects.get()
    assert subscription.status == "active"
    assert subscription.past_due_since is None
    assert subscription.licensee.status == "active"
    renewal_row = Invoice.objects.get(stripe_invoice_id=renewal["id"])
    assert renewal_row.status == "paid" and renewal_row.payment_failed_at is not None
    assert BillingEvent.objects.get(event_id=failed["id"]).processed_at is not None
    assert BillingEvent.objects.get(event_id=past_due["id"]).outcome


def test_invoices_keep_amounts_tax_data_and_seven_years(pending, callrix_stripe):
    callrix_stripe.sandbox.pay_invoice(pending["invoice"]["id"])
    callrix_stripe.deliver_new()

    invoice = Invoice.objects.get(stripe_invoice_id=pending["invoice"]["id"])
    assert invoice.number.endswith("-0001")
    assert (invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor) == (4_900, 931, 5_831)
    assert invoice.amount_paid_minor == 5_831 and invoice.currency == "EUR"
    assert invoice.tax_details[0]["taxability_reason"] == "standard_rated"
    assert invoice.customer_name == "Aurora Psychics Ltd"
    assert invoice.customer_address["country"] == "CY"
    assert invoice.status == "paid" and invoice.paid_at is not None
    assert invoice.hosted_invoice_url == pending["invoice"]["hosted_invoice_url"]
    issued = invoice.issued_at.date()
    assert invoice.retain_until == issued.replace(year=issued.year + 7)
    assert invoice.billing_reason == "subscription_create"


def test_invoice_retention_handles_leap_days():
    assert invoice_retain_until(datetime(2028, 2, 29, 12, tzinfo=UTC)) == date(2035, 2, 28)


def test_an_event_about_an_unknown_subscription_is_retried_then_set_aside(pending):
    stranger = "sub_made_elsewhere"
    event = BillingEvent.objects.create(
        event_id="evt_stranger",
        type="customer.subscription.updated",
        payload={
            "id": "evt_stranger",
            "type": "customer.subscription.updated",
            "created": int(timezone.now().timestamp()),
            "data": {"object": {"id": stranger, "object": "subscription", "status": "active"}},
        },
    )

    with pytest.raises(EventNotApplicable):
        dunning.billing_event_apply(event_id=event.event_id)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        outcome = dunning.billing_event_apply(event_id=event.event_id)

    assert outcome == "not one of our subscriptions"
    event.refresh_from_db()
    assert event.processed_at is not None


def test_events_we_do_not_act_on_are_recorded_as_ignored(pending, callrix_stripe):
    created = callrix_stripe.events("customer.created")[0]["id"]

    assert BillingEvent.objects.get(event_id=created).outcome == "ignored"


def test_a_webhook_body_that_is_not_an_event_is_refused(callrix_stripe):
    payload = json.dumps({"hello": "world"}).encode()

    response = _post(payload, sign(payload, callrix_stripe.webhook_secret))

    assert response.status_code == 400
