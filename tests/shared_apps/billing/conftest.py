"""Callrix's own Stripe account (a sandbox account), plans, and a sign-up helper."""

from __future__ import annotations

import pytest
from django.test import Client, TestCase
from django_tenants.utils import schema_context

from shared_apps.billing.models import Plan
from shared_apps.licensing import dunning
from tests.factories import PASSWORD


class CallrixStripe:
    """Callrix's account at the Stripe sandbox. Webhooks are posted by hand, signed by the
    sandbox, to the public host; `apply` plays the job a worker would run."""

    def __init__(self, sandbox, credentials: dict, sandbox_url: str):
        self.sandbox = sandbox
        self.sandbox_url = sandbox_url
        self.account_id = credentials["account_id"]
        self.webhook_secret = credentials["webhook_secret"]
        self.secret_key = credentials["secret_key"]
        self.delivered: set[str] = set()

    def events(self, event_type: str | None = None) -> list[dict]:
        """Oldest first."""
        return list(reversed(self.sandbox.events(self.account_id, event_type)))

    def deliver(self, event_id: str, host: str = "localhost"):
        payload, signature = self.sandbox.signed_event(event_id)
        self.delivered.add(event_id)
        return Client(HTTP_HOST=host).post(
            "/webhooks/stripe",
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature,
        )

    def apply(self, event_id: str) -> str:
        """What the job does, with its after-commit work (e-mails) run as a commit would."""
        with TestCase.captureOnCommitCallbacks(execute=True):
            return dunning.billing_event_apply(event_id=event_id)

    def deliver_new(self) -> list[str]:
        """Deliver and apply, in order, every event not delivered yet; their outcomes."""
        outcomes = []
        for event in self.events():
            if event["id"] in self.delivered:
                continue
            assert self.deliver(event["id"]).status_code == 200
            outcomes.append(f"{event['type']}: {self.apply(event['id'])}")
        return outcomes

    def skip_existing(self) -> None:
        self.delivered |= {event["id"] for event in self.events()}


@pytest.fixture
def callrix_stripe(stripe, settings) -> CallrixStripe:
    credentials = stripe.create_account(display_name="Callrix")
    settings.CALLRIX_STRIPE_SECRET_KEY = credentials["secret_key"]
    settings.CALLRIX_STRIPE_WEBHOOK_SECRET = credentials["webhook_secret"]
    settings.BILLING_AUTOMATIC_TAX = True
    return CallrixStripe(stripe, credentials, settings.STRIPE_API_BASE)


@pytest.fixture
def plans(db):
    with schema_context("public"):
        return {
            "basic": Plan.objects.create(
                code="basic",
                name="Basic",
                monthly_fee_minor=4_900,
                currency="EUR",
                included_advisors=5,
                included_minutes=1_000,
                revenue_share_bps=1_500,
            ),
            "trial": Plan.objects.create(
                code="starter",
                name="Starter",
                monthly_fee_minor=9_900,
                currency="EUR",
                included_advisors=10,
                included_minutes=5_000,
                revenue_share_bps=1_200,
                trial_days=14,
            ),
            "retired": Plan.objects.create(
                code="legacy", name="Legacy", monthly_fee_minor=100, active=False
            ),
        }


def signup_body(**changes) -> dict:
    body = {
        "slug": "aurora-psy",
        "company": "Aurora Psychics Ltd",
        "full_name": "Ada Quill",
        "email": "ada@aurora.example",
        "phone": "+357 25 123456",
        "password": PASSWORD,
        "billing_address": {
            "line1": "1 Harbour Street",
            "city": "Limassol",
            "postal_code": "3036",
            "country": "CY",
        },
        "plan": "basic",
    }
    address = changes.pop("billing_address", None)
    if address is not None:
        body["billing_address"] = {**body["billing_address"], **address}
    body.update(changes)
    return body


@pytest.fixture
def signup(api, callrix_stripe, plans):
    """signup(plan="starter", slug=…): POST /api/platform/v1/signup; returns the response."""

    def make(**changes):
        return api(None).post("/api/platform/v1/signup", signup_body(**changes))

    return make
