"""Dunning: a failed payment makes the licensee `past_due` (it keeps serving, its owner is
warned), still unpaid after the grace period it is suspended by the daily job (403 page, data
untouched), and a payment makes it active again."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
import stripe
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import TestCase
from django.utils import timezone
from django_tenants.utils import schema_context

from shared_apps.billing.models import Subscription
from shared_apps.licensing import dunning, lifecycle
from tenants.models import Licensee

pytestmark = pytest.mark.django_db


@pytest.fixture
def paying(signup, callrix_stripe) -> SimpleNamespace:
    """A licensee whose first invoice is paid, and its next period's invoice declined."""
    body = signup().json()
    callrix_stripe.sandbox.pay_invoice(body["invoice"]["id"])
    callrix_stripe.deliver_new()
    mail.outbox.clear()
    return SimpleNamespace(subscription_id=body["subscription"]["id"], slug="aurora-psy")


def _status(slug: str) -> str:
    return Licensee.objects.get(slug=slug).status


def _decline_renewal(callrix_stripe, paying) -> dict:
    renewal = callrix_stripe.sandbox.advance_subscription(paying.subscription_id, outcome="fail")
    callrix_stripe.deliver_new()
    return renewal


def _run_dunning(now=None) -> dict:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return dunning.dunning_run(now=now)


def test_failed_payment_makes_the_licensee_past_due_and_warns_its_owner(
    paying, callrix_stripe, host_client
):
    _decline_renewal(callrix_stripe, paying)

    assert _status(paying.slug) == "past_due"
    assert Subscription.objects.get().past_due_since is not None
    # Its users keep working.
    assert host_client("aurora-psy.localhost").get("/api/v1/health").status_code == 200
    warning = next(m for m in mail.outbox if m.subject.startswith("Payment failed"))
    assert warning.to == ["ada@aurora.example"]
    assert "suspended" in warning.body and "/_sandbox/invoices/" in warning.body


def test_unpaid_past_the_grace_period_the_daily_job_suspends_and_payment_restores(
    paying, callrix_stripe, host_client, settings
):
    renewal = _decline_renewal(callrix_stripe, paying)
    since = Subscription.objects.get().past_due_since
    client = host_client("aurora-psy.localhost")

    assert _run_dunning(now=since + timedelta(days=13, hours=23)) == {}
    assert _status(paying.slug) == "past_due"

    with time_machine.travel(since + timedelta(days=14, minutes=1), tick=False):
        changes = _run_dunning()
    assert changes == {"aurora-psy": "past_due -> suspended"}
    page = client.get("/")
    assert page.status_code == 403 and b"temporarily unavailable" in page.content
    assert client.get("/api/v1/health").json()["code"] == "licensee_suspended"
    with schema_context("aurora_psy"):
        assert get_user_model().objects.filter(role="owner").exists()  # data untouched
    assert any(m.subject.endswith("is suspended") for m in mail.outbox)
    assert _run_dunning() == {}  # a second run changes nothing

    callrix_stripe.sandbox.pay_invoice(renewal["id"])
    callrix_stripe.deliver_new()

    assert _status(paying.slug) == "active"
    assert Subscription.objects.get().dunning_suspended_at is None
    assert client.get("/api/v1/health").status_code == 200
    assert any(m.subject.endswith("is active again") for m in mail.outbox)


def test_the_grace_period_comes_from_settings(paying, callrix_stripe, settings):
    settings.DUNNING_GRACE_DAYS = 3
    _decline_renewal(callrix_stripe, paying)
    since = Subscription.objects.get().past_due_since

    assert _run_dunning(now=since + timedelta(days=2)) == {}
    assert _run_dunning(now=since + timedelta(days=3)) == {"aurora-psy": "past_due -> suspended"}


def test_paying_within_the_grace_period_clears_past_due(paying, callrix_stripe):
    renewal = _decline_renewal(callrix_stripe, paying)

    callrix_stripe.sandbox.pay_invoice(renewal["id"])
    callrix_stripe.deliver_new()

    assert _status(paying.slug) == "active"
    assert Subscription.objects.get().past_due_since is None
    later = timezone.now() + timedelta(days=30)
    assert _run_dunning(now=later) == {}


def test_a_suspension_by_staff_is_not_lifted_by_a_payment(paying, callrix_stripe):
    renewal = _decline_renewal(callrix_stripe, paying)
    lifecycle.licensee_suspend_by_staff(slug=paying.slug)

    callrix_stripe.sandbox.pay_invoice(renewal["id"])
    callrix_stripe.deliver_new()

    assert _status(paying.slug) == "suspended"


def test_a_trial_that_ends_paid_becomes_active(signup, callrix_stripe):
    body = signup(plan="starter", slug="trial-co").json()
    callrix_stripe.deliver_new()
    assert _status("trial-co") == "trial"

    callrix_stripe.sandbox.advance_subscription(body["subscription"]["id"], outcome="pay")
    callrix_stripe.deliver_new()

    assert _status("trial-co") == "active"


def test_a_trial_that_ends_unpaid_becomes_past_due(signup, callrix_stripe):
    body = signup(plan="starter", slug="trial-co").json()
    callrix_stripe.sandbox.advance_subscription(body["subscription"]["id"], outcome="fail")
    callrix_stripe.deliver_new()

    assert _status("trial-co") == "past_due"


def test_a_cancelled_subscription_suspends_the_licensee(paying, callrix_stripe, settings):
    client = stripe.StripeClient(
        callrix_stripe.secret_key, base_addresses={"api": settings.STRIPE_API_BASE}
    )
    client.v1.subscriptions.cancel(paying.subscription_id)
    callrix_stripe.deliver_new()

    assert _status(paying.slug) == "suspended"
    assert Subscription.objects.get().status == "canceled"
    assert any("subscription for" in m.body for m in mail.outbox)


def test_termination_is_final_whatever_billing_says(paying, callrix_stripe):
    renewal = _decline_renewal(callrix_stripe, paying)
    lifecycle.licensee_terminate(slug=paying.slug)

    callrix_stripe.sandbox.pay_invoice(renewal["id"])
    callrix_stripe.deliver_new()

    assert _status(paying.slug) == "terminated"


@pytest.mark.parametrize(
    ("licensee_status", "subscription", "target"),
    [
        ("active", {"past_due_since": "now"}, "past_due"),
        ("trial", {"past_due_since": "now"}, "past_due"),
        ("past_due", {"past_due_since": "now"}, None),
        ("past_due", {"past_due_since": "long ago"}, "suspended"),
        ("active", {"past_due_since": "long ago"}, "past_due"),  # e.g. just reactivated
        ("suspended", {"past_due_since": "long ago"}, None),
        ("past_due", {}, "active"),
        ("trial", {"status": "active"}, "active"),
        ("active", {"status": "trialing"}, "trial"),
        ("suspended", {}, None),  # suspended by staff
        ("suspended", {"dunning_suspended_at": "now"}, "active"),
        ("active", {"status": "canceled"}, "suspended"),
        ("suspended", {"status": "canceled"}, None),
        ("terminated", {"status": "canceled"}, None),
        ("terminated", {}, None),
    ],
)
def test_standing_target(licensee_status, subscription, target):
    now = timezone.now()
    moments = {"now": now, "long ago": now - timedelta(days=30)}
    fields = {"status": "active", "past_due_since": None, "dunning_suspended_at": None}
    fields.update({key: moments.get(value, value) for key, value in subscription.items()})

    found = dunning.standing_target(
        licensee_status=licensee_status, subscription=Subscription(**fields), now=now
    )

    assert found == target
