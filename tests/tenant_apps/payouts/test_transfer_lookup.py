"""Stripe keeps an idempotency key 24 hours: a payout whose outcome is unknown for longer is
looked up at Stripe by its stable transfer group and metadata before anything is sent again."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tenant_apps.payments import stripe_gateway
from tenant_apps.payouts import services, transfers
from tenant_apps.wallets.selectors import ledger_verify
from tests.tenant_apps.payouts.conftest import sandbox_transfers, settle_call

pytestmark = pytest.mark.django_db


def _pending(payouts, luna):
    advisor, token = luna
    settle_call(advisor, talk_seconds=600)
    payouts.onboard(advisor, token)
    payouts.fund(5_000)
    policy = services.selectors.policy_get()
    period = services.periods.period_key(policy.schedule, timezone.now())
    payout = services._scheduled_open(advisor_id=advisor.pk, period=period, policy=policy)
    assert payout.status == "pending"
    return payout


def test_a_transfer_made_before_a_crash_is_found_a_day_later_not_sent_twice(payouts, luna):
    payout = _pending(payouts, luna)
    made = stripe_gateway.transfer_create(  # Stripe made it; the reply was lost
        secret_key=payouts.creds["secret_key"],
        amount_minor=payout.amount_minor,
        currency=payout.currency,
        destination=payout.destination_account_id,
        transfer_group=transfers.transfer_group_of(payout),
        metadata=transfers.transfer_metadata(payout),
        idempotency_key=transfers.transfer_idempotency_key(payout),
    )
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        # The sandbox, like Stripe, has forgotten the key by now: resending would pay again.
        report = services.payouts_run()
    assert report.paid == 1
    payout.refresh_from_db()
    assert payout.status == "paid" and payout.stripe_transfer_id == made.id
    assert len(sandbox_transfers(payouts.stripe, payouts.creds)) == 1
    assert ledger_verify() == []


def test_a_day_later_with_no_transfer_at_stripe_it_is_sent(payouts, luna):
    payout = _pending(payouts, luna)
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        report = services.payouts_run()
    assert report.paid == 1
    payout.refresh_from_db()
    made = sandbox_transfers(payouts.stripe, payouts.creds)
    assert [t["id"] for t in made] == [payout.stripe_transfer_id]
    assert made[0]["transfer_group"] == transfers.transfer_group_of(payout)
    assert made[0]["metadata"]["payout_id"] == str(payout.pk)
