"""The whole top-up path with nothing stood in for: the sandbox delivers a signed webhook over
HTTP to a running Callrix, which stores it and queues a job that a real dramatiq worker runs
in the licensee's schema."""

from __future__ import annotations

import time

import dramatiq
from django.db import connection
from dramatiq import Worker

from identity.models import User
from tenant_apps.payments import services
from tenant_apps.payments.models import StripeEvent
from tenant_apps.wallets import selectors as wallet_selectors
from tests.factories import worker_stop
from tests.tenant_apps.payments.conftest import connect_to_sandbox


def test_a_delivered_webhook_is_applied_by_the_worker_once(
    throwaway_licensee, stripe, callrix_server
):
    licensee = throwaway_licensee("pay-e2e", "Pay E2E")
    creds = connect_to_sandbox(stripe, licensee)
    stripe.update_account(
        creds["account_id"],
        webhook_url=f"{callrix_server.url}/webhooks/stripe",
        webhook_host="pay-e2e.localhost",
    )
    connection.set_tenant(licensee)
    caller = User.objects.create_user("payer@example.test", None, role="end_user")
    topup = services.topup_create(user=caller, amount_minor=2_500)

    broker = dramatiq.get_broker()
    broker.flush_all()  # earlier tests' leftovers would only delay ours
    worker = Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        stripe.succeed_payment_intent(topup.payment_intent_id)
        assert stripe.wait_for_deliveries(timeout=60)
        succeeded = stripe.events(creds["account_id"], "payment_intent.succeeded")[0]["id"]
        for _ in range(4):  # Stripe may deliver more than once
            stripe.resend_event(succeeded)
        broker.join("payments", timeout=60_000)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            connection.set_tenant(licensee)
            if StripeEvent.objects.filter(event_id=succeeded, processed_at__isnull=False).exists():
                break
            time.sleep(0.1)
    finally:
        worker_stop(worker)
    connection.set_tenant(licensee)
    assert wallet_selectors.wallet_balance_get(user_id=caller.pk).available_minor == 2_500
    assert StripeEvent.objects.filter(event_id=succeeded).count() == 1
    assert wallet_selectors.ledger_verify() == []
