"""A licensee's account holder moves to another plan through the platform API: Stripe (its
stand-in) prorates the rest of the period onto the next invoice, as Stripe documents, and the
new plan's fee and advisor limit apply from then."""

from __future__ import annotations

import pytest
from django.utils import timezone

from shared_apps.billing import selectors as billing_selectors
from shared_apps.billing.models import LicenseeTerms, Plan, Subscription
from tests.factories import PASSWORD
from tests.shared_apps.billing.conftest import callrix_stripe, plans, signup  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def growth(plans):  # noqa: F811
    return Plan.objects.create(
        code="growth",
        name="Growth",
        monthly_fee_minor=14_900,
        currency="EUR",
        included_advisors=15,
        included_minutes=5_000,
        revenue_share_bps=1_000,
    )


def _holder_token(api) -> str:
    response = api(None).post(
        "/api/platform/v1/auth/token", {"email": "ada@aurora.example", "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    return response.json()["access"]


def test_an_upgrade_is_prorated_on_the_next_invoice_and_applies_from_now(
    signup,  # noqa: F811
    callrix_stripe,  # noqa: F811
    api,
    growth,
):
    body = signup().json()
    callrix_stripe.sandbox.pay_invoice(body["invoice"]["id"])
    callrix_stripe.deliver_new()
    subscription = Subscription.objects.get(slug="aurora-psy")
    first = LicenseeTerms.objects.get(licensee=subscription.licensee)
    assert (first.reason, first.revenue_share_bps) == ("signup", 1_500)

    token = _holder_token(api)
    response = api(None).post("/api/platform/v1/account/plan", {"plan": "growth"}, token=token)
    assert response.status_code == 200, response.content
    assert response.json()["plan"] == "growth" and response.json()["included_advisors"] == 15

    subscription.refresh_from_db()
    assert subscription.plan == growth
    terms = billing_selectors.licensee_terms_at(subscription.licensee_id, timezone.now())
    assert terms is not None and terms.revenue_share_bps == 1_000
    # Stripe's proration: unused time on Basic credited, the rest of the period on Growth
    # charged, both pending for the next invoice.
    items = [
        event["data"]["object"]
        for event in callrix_stripe.events("invoiceitem.created")
        if event["data"]["object"].get("proration")
    ]
    amounts = sorted(item["amount"] for item in items)
    assert len(amounts) == 2 and amounts[0] < 0 < amounts[1]
    assert -amounts[0] <= 4_900 and amounts[1] <= 14_900
    assert abs(amounts[1] / 14_900 - (-amounts[0]) / 4_900) < 0.001  # the same share of a period
    assert all(item["invoice"] is None for item in items)
    assert callrix_stripe.events("customer.subscription.updated")
    # The next invoice renews on Growth and carries both proration lines.
    invoice = callrix_stripe.sandbox.advance_subscription(subscription.stripe_subscription_id)
    lines = [line["amount"] for line in invoice["lines"]["data"]]
    assert 14_900 in lines and set(amounts) <= set(lines)


def test_only_an_account_holder_with_a_licensee_changes_plans_and_to_a_real_plan(
    signup,  # noqa: F811
    callrix_stripe,  # noqa: F811
    api,
    growth,
):
    signup()  # not paid yet: no licensee
    token = _holder_token(api)
    response = api(None).post("/api/platform/v1/account/plan", {"plan": "growth"}, token=token)
    assert response.status_code == 404
    assert api(None).post("/api/platform/v1/account/plan", {"plan": "growth"}).status_code == 401
    assert not LicenseeTerms.objects.exists()
