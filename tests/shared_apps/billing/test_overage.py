"""Talk minutes past a plan's included ones, billed through Stripe Billing (its stand-in,
through the official SDK): reported once per licensee and day to the overage meter, billed
at the plan's rate on the invoice that closes the period, shown on the licensee's dashboard
and on its invoice; a report Stripe did not answer goes again and is never counted twice."""

from __future__ import annotations

import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from shared_apps.billing import overage, stripe_gateway
from shared_apps.billing import services as billing_services
from shared_apps.billing.models import Invoice, OverageReport, Plan, Subscription
from tests.factories import stripe_posts_watched
from tests.shared_apps.billing.conftest import callrix_stripe  # noqa: F401
from tests.tenant_apps.dashboard.conftest import signed_in  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def basic():
    return Plan.objects.create(
        code="o-basic",
        name="Basic",
        monthly_fee_minor=4_900,
        currency="EUR",
        included_advisors=5,
        included_minutes=1_000,
        overage_minor_per_minute=10,
    )


def _contract(licensee, plan: Plan, callrix_stripe) -> Subscription:  # noqa: F811
    """The licensee's paid subscription on Callrix's Stripe account, as sign-up leaves it,
    with its billing period moved three days back (so there are past days to count)."""
    customer_id = stripe_gateway.customer_create(
        company=licensee.display_name,
        email=f"owner@{licensee.slug}.example",
        phone="",
        address={"line1": "1 Harbour St", "city": "Limassol", "country": "CY"},
        metadata={},
        idempotency_key=f"test-customer-{licensee.slug}",
    )
    started = stripe_gateway.subscription_create(
        customer_id=customer_id,
        price_id=stripe_gateway.plan_price_id(
            plan_code=plan.code,
            plan_name=plan.name,
            monthly_fee_minor=plan.monthly_fee_minor,
            currency=plan.currency,
        ),
        trial_days=0,
        metadata={},
        idempotency_key=f"test-subscription-{licensee.slug}",
    )
    assert started.latest_invoice is not None
    callrix_stripe.sandbox.pay_invoice(started.latest_invoice.id)
    callrix_stripe.skip_existing()
    billing_services.terms_record(licensee_id=licensee.pk, plan=plan, reason="signup")
    assert started.current_period_end is not None
    return Subscription.objects.create(
        plan=plan,
        slug=licensee.slug,
        company=licensee.display_name,
        licensee=licensee,
        stripe_customer_id=customer_id,
        stripe_subscription_id=started.id,
        status="active",
        current_period_start=timezone.now() - timedelta(days=3),
        current_period_end=started.current_period_end,
    )


def _usage(licensee, day, minutes: int) -> None:
    billing_services.licensee_usage_record(
        licensee_id=licensee.pk,
        day=day,
        advisors=1,
        end_users=1,
        calls=1,
        talk_seconds=minutes * 60,
    )


def _meter_events(callrix_stripe) -> list[dict]:  # noqa: F811
    sandbox = callrix_stripe.sandbox
    with sandbox._lock:
        return [
            event
            for event in sandbox._billing_objects(callrix_stripe.account_id, "billing.meter_event")
        ]


def test_minutes_past_the_included_ones_are_reported_daily_and_billed_on_the_next_invoice(
    alpha,
    basic,
    callrix_stripe,  # noqa: F811
    signed_in,  # noqa: F811
):
    subscription = _contract(alpha, basic, callrix_stripe)
    today = timezone.now().date()
    _usage(alpha, today - timedelta(days=2), 700)
    _usage(alpha, today - timedelta(days=1), 400)

    first = overage.overage_report_run(day=today - timedelta(days=2))
    assert (first.recorded, first.delivered, first.pending) == (1, 1, 0)
    assert OverageReport.objects.get(day=today - timedelta(days=2)).minutes == 0
    assert _meter_events(callrix_stripe) == []  # nothing over yet: nothing sent

    second = overage.overage_report_run(day=today - timedelta(days=1))
    assert second.delivered == 1
    report = OverageReport.objects.get(day=today - timedelta(days=1))
    assert (report.used_minutes, report.minutes, report.attempts) == (1_100, 100, 1)
    # A rerun of the same day (a retried job) adds nothing, here or on Stripe.
    overage.overage_report_run(day=today - timedelta(days=1))
    assert OverageReport.objects.filter(minutes__gt=0).count() == 1
    _usage(alpha, today, 50)
    overage.overage_report_run(day=today)
    events = _meter_events(callrix_stripe)
    assert sorted(int(e["payload"]["value"]) for e in events) == [50, 100]
    assert {e["payload"]["stripe_customer_id"] for e in events} == {subscription.stripe_customer_id}
    subscription.refresh_from_db()
    assert subscription.stripe_overage_item_id

    # The licensee's owner sees the period so far on the dashboard.
    owner = signed_in("alpha", "owner")
    page = owner.get("/dashboard/plan/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-field="used">1150<' in html and 'data-field="overage">150<' in html
    assert 'data-field="included">1000<' in html
    assert "15.00" in html or "15,00" in html  # 150 minutes at €0.10

    # The invoice that closes the period bills them at the plan's rate, and we keep its lines.
    invoice = callrix_stripe.sandbox.advance_subscription(subscription.stripe_subscription_id)
    callrix_stripe.deliver_new()
    stored = Invoice.objects.get(stripe_invoice_id=invoice["id"])
    overage_lines = [line for line in stored.lines if line["overage"]]
    assert [line["amount_minor"] for line in overage_lines] == [1_500]
    assert stored.subtotal_minor == 4_900 + 1_500
    html = owner.get("/dashboard/plan/").content.decode()
    assert 'data-overage="1"' in html and stored.number in html
    # Stripe's hosted invoice page (the stand-in's) lists the line too.
    with urllib.request.urlopen(stored.hosted_invoice_url, timeout=5) as response:
        hosted = response.read().decode()
    assert "150 × " in hosted and "15.00 EUR" in hosted


def test_a_report_stripe_did_not_answer_goes_again_and_counts_once(
    alpha,
    basic,
    callrix_stripe,  # noqa: F811
    settings,
):
    subscription = _contract(alpha, basic, callrix_stripe)
    yesterday = timezone.now().date() - timedelta(days=1)
    _usage(alpha, yesterday, 1_250)
    api_base = settings.STRIPE_API_BASE
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable
    run = overage.overage_report_run(day=yesterday)
    assert (run.recorded, run.delivered, run.pending) == (1, 0, 1)
    report = OverageReport.objects.get()
    assert report.reported_at is None and report.attempts == 1 and report.last_error

    settings.STRIPE_API_BASE = api_base  # back: the next run sends it
    run = overage.overage_report_run(day=yesterday)
    assert (run.recorded, run.delivered, run.pending) == (1, 1, 0)
    # Stripe got it but the answer was lost: sending it again is refused as a duplicate by
    # identifier, which counts as delivered; Stripe still holds one event.
    OverageReport.objects.filter(pk=report.pk).update(reported_at=None)
    again = overage.overage_send(report=OverageReport.objects.get(pk=report.pk))
    assert again.reported_at is not None and again.attempts == 3
    events = _meter_events(callrix_stripe)
    assert [(e["identifier"], e["payload"]["value"]) for e in events] == [
        (report.identifier, "250")
    ]
    assert subscription.stripe_customer_id == events[0]["payload"]["stripe_customer_id"]


def test_the_stripe_calls_run_outside_any_transaction(alpha, basic, callrix_stripe):  # noqa: F811
    _contract(alpha, basic, callrix_stripe)
    yesterday = timezone.now().date() - timedelta(days=1)
    _usage(alpha, yesterday, 1_100)
    with stripe_posts_watched(callrix_stripe.sandbox) as seen:
        overage.overage_report_run(day=yesterday)
    # The meter, the price, the subscription item and the event: none inside a transaction.
    assert len(seen) == 4 and {depth for _, depth in seen} == {0}


def test_a_licensee_sees_only_its_own_minutes_and_invoices(
    alpha,
    beta,
    basic,
    callrix_stripe,  # noqa: F811
    signed_in,  # noqa: F811
):
    _contract(alpha, basic, callrix_stripe)
    _usage(alpha, timezone.now().date() - timedelta(days=1), 1_400)
    with schema_context("public"):
        Invoice.objects.filter(licensee=alpha).update(number="ALPHA-0001")
    page = signed_in("beta", "owner").get("/dashboard/plan/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "1400" not in html and "ALPHA-0001" not in html
    assert "has no subscription plan" in html
    # An admin who is not the owner does not see Callrix's invoices.
    assert signed_in("alpha", "admin").get("/dashboard/plan/").status_code == 403
