"""A plan change asks Stripe (the proration of the fee item, the overage item's new rate)
with no transaction open and no row locked: Stripe's answer is awaited outside the change's
own transaction, which only records what Stripe accepted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from shared_apps.billing import overage
from shared_apps.billing.models import LicenseeTerms, Plan, Subscription
from shared_apps.licensing.lifecycle import licensee_plan_change
from tests.factories import stripe_posts_watched
from tests.shared_apps.billing.conftest import callrix_stripe  # noqa: F401
from tests.shared_apps.billing.test_overage import _contract, _usage, basic  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_plan_change_asks_stripe_outside_any_transaction_and_moves_the_overage_rate(
    alpha,
    basic,  # noqa: F811
    callrix_stripe,  # noqa: F811
):
    growth = Plan.objects.create(
        code="o-growth",
        name="Growth",
        monthly_fee_minor=14_900,
        currency="EUR",
        included_minutes=5_000,
        overage_minor_per_minute=5,
    )
    subscription = _contract(alpha, basic, callrix_stripe)
    _usage(alpha, timezone.now().date() - timedelta(days=1), 1_100)
    overage.overage_report_run(day=timezone.now().date() - timedelta(days=1))
    subscription.refresh_from_db()
    item_id = subscription.stripe_overage_item_id
    assert item_id

    with stripe_posts_watched(callrix_stripe.sandbox) as seen:
        terms = licensee_plan_change(slug="alpha", plan_code="o-growth")

    paths = [path for path, _ in seen]
    assert f"/v1/subscriptions/{subscription.stripe_subscription_id}" in paths
    assert f"/v1/subscription_items/{item_id}" in paths
    assert {depth for _, depth in seen} == {0}
    assert terms.plan == growth and terms.overage_minor_per_minute == 5
    assert LicenseeTerms.objects.filter(licensee=alpha).count() == 2
    subscription = Subscription.objects.get(pk=subscription.pk)
    assert subscription.plan == growth
    assert subscription.stripe_overage_price_key.endswith("-eur-5")
    sandbox = callrix_stripe.sandbox
    with sandbox._lock:
        stripe_subscription = sandbox._objects[subscription.stripe_subscription_id]
        prices = {
            item["id"]: item["price"]["unit_amount"]
            for item in stripe_subscription["items"]["data"]
        }
    assert prices[item_id] == 5 and 14_900 in prices.values()
