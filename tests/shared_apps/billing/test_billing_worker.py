"""The whole paid sign-up with nothing stood in for: the sandbox delivers Callrix's signed
webhooks over HTTP to a running Callrix on its public host, which stores them and queues jobs
that a real dramatiq worker runs, provisioning the platform."""

from __future__ import annotations

import time

import dramatiq
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_context
from dramatiq import Worker

from shared_apps.accounts.models import AccountHolder
from shared_apps.billing.models import BillingEvent, Invoice, Plan, Subscription
from tenants.models import Licensee
from tests.factories import licensee_destroy, worker_stop
from tests.shared_apps.billing.conftest import signup_body


# Generous: provisioning migrates a schema in the worker, which a loaded 2-core machine slows.
def _wait_for(condition, seconds: float = 90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _clean_up(slug: str, email: str) -> None:
    with schema_context("public"):
        for licensee in Licensee.objects.filter(slug=slug):
            Invoice.objects.filter(subscription__slug=slug).delete()
            Subscription.objects.filter(slug=slug).delete()
            licensee_destroy(licensee)
        Invoice.objects.filter(subscription__slug=slug).delete()
        Subscription.objects.filter(slug=slug).delete()
        AccountHolder.objects.filter(user__email=email).delete()
        get_user_model().objects.filter(email=email).delete()
        Plan.objects.filter(code="e2e").delete()
        BillingEvent.objects.all().delete()


def test_a_paid_signup_is_provisioned_by_the_worker(committed, callrix_server, stripe, settings):
    credentials = stripe.create_account(
        display_name="Callrix",
        webhook_url=f"{callrix_server.url}/webhooks/stripe",
        webhook_host="localhost",
    )
    settings.CALLRIX_STRIPE_SECRET_KEY = credentials["secret_key"]
    settings.CALLRIX_STRIPE_WEBHOOK_SECRET = credentials["webhook_secret"]
    with schema_context("public"):
        Plan.objects.create(code="e2e", name="E2E", monthly_fee_minor=2_900)
    body = signup_body(slug="e2e-paid", email="e2e@paid.example", plan="e2e")
    broker = dramatiq.get_broker()
    broker.flush_all()  # earlier tests' leftovers would only delay ours
    worker = Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        response = Client(HTTP_HOST="localhost").post(
            "/api/platform/v1/signup", body, content_type="application/json"
        )
        assert response.status_code == 201, response.content
        stripe.pay_invoice(response.json()["invoice"]["id"])
        assert stripe.wait_for_deliveries(timeout=60)
        paid = stripe.events(credentials["account_id"], "invoice.paid")[0]["id"]
        stripe.resend_event(paid)  # Stripe may deliver more than once

        def provisioned() -> bool:
            with schema_context("public"):
                return Licensee.objects.filter(slug="e2e-paid", status="active").exists()

        assert _wait_for(provisioned), list(BillingEvent.objects.values("type", "outcome"))
        broker.join("billing", timeout=60_000)
        with schema_context("public"):
            assert BillingEvent.objects.filter(event_id=paid).count() == 1
            assert Subscription.objects.get(slug="e2e-paid").status == "active"
            assert Invoice.objects.get(subscription__slug="e2e-paid").status == "paid"
            assert Licensee.objects.filter(slug="e2e-paid").count() == 1
        health = Client(HTTP_HOST="e2e-paid.localhost").get("/api/v1/health")
        assert health.json()["status"] == "active"
    finally:
        worker_stop(worker)
        _clean_up("e2e-paid", "e2e@paid.example")
