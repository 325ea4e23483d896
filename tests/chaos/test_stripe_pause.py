"""The Stripe stand-in paused (SIGSTOP) during top-ups and a refund: requests answer within
seconds with a JSON error (never a 500) or a pending refund, and once it resumes every paid
top-up is credited exactly once, the refund is made once, and the books verify."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from django.db import connection

from identity.models import User
from sandboxes.stripe_sandbox import sign
from tenant_apps.payments import services
from tenant_apps.payments.models import Refund, TopUp
from tenant_apps.wallets.selectors import ledger_verify, wallet_balance_get
from tests.chaos.conftest import get_json, post_json, succeeded_event
from tests.factories import PASSWORD, password_hash

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
