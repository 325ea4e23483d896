"""The Stripe stand-in paused (SIGSTOP) during top-ups, a refund and a payout run: requests
answer within seconds with a JSON error (never a 500), a pending refund or a pending payout,
and once it resumes every paid top-up is credited exactly once, the refund is made once, the
payout is transferred once, and the books verify."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from django.db import connection
from django.utils import timezone

from identity.models import User
from sandboxes.stripe_sandbox import sign
from tenant_apps.payments import services
from tenant_apps.payments.models import Refund, TopUp
from tenant_apps.payouts import services as payout_services
from tenant_apps.payouts.models import Payout, PayoutAccount
from tenant_apps.wallets.selectors import ledger_verify, wallet_balance_get
from tests.chaos.conftest import get_json, post_json, succeeded_event
from tests.factories import PASSWORD, password_hash
from tests.tenant_apps.payouts.conftest import earnings_balance, make_advisor, settle_call

pytestmark = pytest.mark.django_db


def test_top_ups_and_a_refund_survive_a_paused_stripe(api, alpha, stripe_process):
    caller = User.objects.create(
        email="payer@chaos.test", role="end_user", password=password_hash(), display_name="P"
    )
    User.objects.create(
        email="boss@chaos.test", role="admin", password=password_hash(), display_name="B"
    )
    client = api("alpha")
    token = client.post("/api/v1/auth/token", {"email": caller.email, "password": PASSWORD})
    admin = client.post("/api/v1/auth/token", {"email": "boss@chaos.test", "password": PASSWORD})
    token, admin = token.json()["access"], admin.json()["access"]
    base, creds = stripe_process.base, stripe_process.creds

    os.kill(stripe_process.pid, signal.SIGSTOP)
    started = time.monotonic()
    refused = client.post("/api/v1/wallet/topups", {"amount": 2_000}, token=token)
    assert time.monotonic() - started < 5
    assert refused.status_code == 502
    assert refused["Content-Type"].startswith("application/json")
    assert refused.json()["code"] == "stripe_unavailable"
    os.kill(stripe_process.pid, signal.SIGCONT)

    made = client.post("/api/v1/wallet/topups", {"amount": 2_000}, token=token)
    assert made.status_code == 201, made.content
    connection.set_tenant(alpha)
    intent = made.json()["payment_intent"]
    post_json(f"{base}/_sandbox/payment_intents/{intent}/succeed")
    payload = json.dumps(succeeded_event(base, creds["account_id"], intent)).encode()
    for _ in range(2):  # Stripe delivers at least once
        stored, _created = services.stripe_event_record(
            payload=payload, signature=sign(payload, creds["webhook_secret"])
        )
        services.stripe_event_process(event_id=stored.event_id)
    assert wallet_balance_get(user_id=caller.pk).available_minor == 2_000  # credited once

    os.kill(stripe_process.pid, signal.SIGSTOP)
    topup_id = TopUp.objects.get(payment_intent_id=intent).pk
    pending = client.post(
        f"/api/v1/admin/topups/{topup_id}/refund", {"amount": 500, "reason": "x"}, token=admin
    )
    os.kill(stripe_process.pid, signal.SIGCONT)
    assert pending.status_code == 201 and pending.json()["status"] == "pending"
    connection.set_tenant(alpha)
    services.refunds_pending_retry(older_than_seconds=0)
    assert Refund.objects.get().status == "succeeded"
    refunds = get_json(f"{base}/_sandbox/events?account={creds['account_id']}&type=charge.refunded")
    assert len(refunds["data"]) == 1  # made once at Stripe
    assert wallet_balance_get(user_id=caller.pk).available_minor == 1_500
    assert TopUp.objects.filter(status="failed").count() == 1
    assert ledger_verify() == []


def test_a_payout_run_survives_a_paused_stripe_and_pays_once(alpha, stripe_process):
    base, creds = stripe_process.base, stripe_process.creds
    connection.set_tenant(alpha)
    payout_services.payout_policy_set(schedule="daily", minimum_amount_minor=1_000, clearing_days=0)
    advisor = make_advisor("luna@chaos.test")
    settle_call(advisor, talk_seconds=600)
    earned = earnings_balance(advisor)
    payout_services.payout_onboarding_start(advisor=advisor, origin="http://alpha.localhost")
    account_id = PayoutAccount.objects.get(advisor=advisor).stripe_account_id
    post_json(f"{base}/_sandbox/onboarding/{account_id}/complete")
    secret_key = payout_services._secret_key()
    payout_services.payout_account_refresh(advisor_id=advisor.pk, secret_key=secret_key)
    payer = User.objects.create_user("payer@chaos.test", None, role="end_user")
    funding = services.topup_create(user=payer, amount_minor=5_000)  # the platform's balance
    post_json(f"{base}/_sandbox/payment_intents/{funding.payment_intent_id}/succeed")
    policy = payout_services.selectors.policy_get()
    period = payout_services.periods.period_key(policy.schedule, timezone.now())
    # Phase 1 of the run committed; Stripe stops answering as the transfer is sent.
    payout = payout_services._scheduled_open(advisor_id=advisor.pk, period=period, policy=policy)
    assert payout.status == Payout.Status.PENDING

    os.kill(stripe_process.pid, signal.SIGSTOP)
    started = time.monotonic()
    report = payout_services.payouts_run()
    assert time.monotonic() - started < 5  # the run does not hang on Stripe
    os.kill(stripe_process.pid, signal.SIGCONT)
    assert (report.paid, report.pending) == (0, 1)  # outcome unknown: kept, not failed
    assert earnings_balance(advisor) == 0  # the money stays with the open payout

    time.sleep(0.5)  # the resumed stand-in works off the request it was sent while paused
    assert payout_services.payouts_run().paid == 1  # the same transfer, by its key
    made = f"{base}/_sandbox/events?account={creds['account_id']}&type=transfer.created"
    transfers = get_json(made)
    assert [t["data"]["object"]["destination"] for t in transfers["data"]] == [account_id]
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID and payout.amount_minor == earned > 0
    assert payout_services.payouts_run().paid == 0
    assert ledger_verify() == []
