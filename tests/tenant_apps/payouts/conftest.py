"""A licensee ready for advisor payouts: its Stripe connected to the sandbox, an advisor and
an admin with tokens, and the steps a payout needs — earnings from settled calls, Connect
onboarding finished through a signed `account.updated`, and money on the licensee's Stripe
balance to transfer."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import stripe as stripe_sdk
from django.conf import settings
from django.db import connection
from django.utils import timezone

from identity.models import User
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls.models import Call
from tenant_apps.payments import services as payment_services
from tenant_apps.payouts import services
from tenant_apps.payouts.models import PayoutAccount
from tenant_apps.pricing import charges
from tenant_apps.wallets import services as wallet_services
from tenant_apps.wallets.models import AccountKind
from tenant_apps.wallets.services import Leg, account_for
from tests.factories import PASSWORD, password_hash
from tests.tenant_apps.payments.conftest import connect_to_sandbox

RATE = 200  # €2.00 a minute: 5 minutes cost €10.00, of which the advisor's 60% is €6.00


def make_advisor(email: str, display_name: str = "Luna") -> Advisor:
    user = User.objects.create(
        email=email, role="advisor", password=password_hash(), display_name=display_name
    )
    return Advisor.objects.create(user=user, display_name=display_name, rate_minor_per_minute=RATE)


def settle_call(advisor: Advisor, talk_seconds: int = 300) -> Call:
    """A completed call settled the way `calls.services.billing.call_settle` does: one ledger
    posting from the caller's hold to the advisor, the licensee and Callrix, with the call's id."""
    caller = User.objects.create_user(
        f"caller-{User.objects.count()}@example.test", None, role="end_user"
    )
    cost = charges.charge_minor(
        seconds=talk_seconds, rate_minor_per_minute=RATE, billing_mode="per_second"
    )
    parts = charges.split(amount_minor=cost, advisor_share_bps=6_000, callrix_fee_bps=1_000)
    wallet_services.ledger_post(
        idempotency_key=f"test-credit:{caller.pk}",
        kind="credit",
        description="test credit",
        legs=[
            Leg(account_for(kind=AccountKind.PROMO), -cost),
            Leg(account_for(kind=AccountKind.WALLET, owner_id=caller.pk), cost),
        ],
    )
    now = timezone.now()
    call = Call.objects.create(
        caller=caller,
        advisor=advisor,
        status=Call.Status.COMPLETED,
        rate_minor_per_minute=RATE,
        billing_mode="per_second",
        currency="EUR",
        held_minor=cost,
        accepted_at=now,
        ended_at=now,
        talk_seconds=talk_seconds,
        cost_minor=cost,
        advisor_minor=parts.advisor_minor,
        licensee_minor=parts.licensee_minor,
        callrix_minor=parts.callrix_minor,
        settled_at=now,
    )
    wallet_services.hold_place(
        user_id=caller.pk,
        amount_minor=cost,
        idempotency_key=f"call:{call.pk}:hold:0",
        description="hold",
    )
    wallet_services.hold_capture(
        user_id=caller.pk,
        credits=[
            Leg(
                account_for(kind=AccountKind.ADVISOR_EARNINGS, owner_id=advisor.user_id),
                parts.advisor_minor,
            ),
            Leg(account_for(kind=AccountKind.LICENSEE_REVENUE), parts.licensee_minor),
            Leg(account_for(kind=AccountKind.CALLRIX_FEE), parts.callrix_minor),
        ],
        idempotency_key=f"call:{call.pk}:settle",
        description=f"Call: {talk_seconds} s",
        metadata={"call_id": call.pk, "talk_seconds": talk_seconds},
    )
    return call


def earnings_balance(advisor: Advisor) -> int:
    return account_for(kind=AccountKind.ADVISOR_EARNINGS, owner_id=advisor.user_id).balance_minor


def payouts_balance() -> int:
    return account_for(kind=AccountKind.PAYOUTS).balance_minor


def stripe_client(creds) -> stripe_sdk.StripeClient:
    """The licensee acting in its own Stripe dashboard (outside Callrix)."""
    return stripe_sdk.StripeClient(
        creds["secret_key"], base_addresses={"api": settings.STRIPE_API_BASE}
    )


def sandbox_transfers(stripe, creds) -> list[dict]:
    events = stripe.events(creds["account_id"], "transfer.created")
    return [event["data"]["object"] for event in events]


@dataclass
class Licensee:
    """One licensee's payout world; methods run in its schema."""

    licensee: object
    api: object
    stripe: object
    creds: dict
    slug: str

    def enter(self) -> None:
        connection.set_tenant(self.licensee)

    def token(self, email: str) -> str:
        response = self.api(self.slug).post(
            "/api/v1/auth/token", {"email": email, "password": PASSWORD}
        )
        self.enter()
        return response.json()["access"]

    def get(self, path, token, **params):
        response = self.api(self.slug).get(path, token=token, **params)
        self.enter()
        return response

    def post(self, path, token, body=None):
        response = self.api(self.slug).post(path, body, token=token)
        self.enter()
        return response

    def put(self, path, token, body):
        response = self.api(self.slug).put(path, body, token=token)
        self.enter()
        return response

    def deliver(self, event_id: str, over_http: bool = True) -> str:
        """Post Stripe's signed event to the licensee's webhook, then apply it as the job
        would. Committing tests record it without HTTP, so no job is queued for a worker."""
        payload, signature = self.stripe.signed_event(event_id)
        connect = bool(json.loads(payload).get("account"))  # a connected account's: Connect
        if not over_http:
            record = (
                payment_services.stripe_connect_event_record
                if connect
                else payment_services.stripe_event_record
            )
            record(payload=payload, signature=signature)
            return payment_services.stripe_event_process(event_id=event_id)
        response = self.api(self.slug).client.post(
            "/webhooks/stripe/connect" if connect else "/webhooks/stripe",
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature,
        )
        assert response.status_code == 200, response.content
        self.enter()
        return payment_services.stripe_event_process(event_id=event_id)

    def latest_event(self, event_type: str) -> str:
        return self.stripe.events(self.creds["account_id"], event_type)[0]["id"]

    def onboard(self, advisor: Advisor, token: str, over_http: bool = True) -> str:
        """The advisor starts onboarding, finishes it at Stripe, and Stripe tells us."""
        response = self.post("/api/v1/advisor/payouts/onboarding", token)
        assert response.status_code == 201, response.content
        account_id = PayoutAccount.objects.get(advisor=advisor).stripe_account_id
        self.stripe.complete_onboarding(account_id)
        event_id = self.latest_event("account.updated")
        assert self.deliver(event_id, over_http=over_http) == "payouts enabled"
        return account_id

    def fund(self, amount_minor: int) -> None:
        """A card payment to the licensee, so its Stripe balance can pay transfers."""
        payer = User.objects.create_user(
            f"payer-{User.objects.count()}@example.test", None, role="end_user"
        )
        topup = payment_services.topup_create(user=payer, amount_minor=amount_minor)
        self.stripe.succeed_payment_intent(topup.payment_intent_id)

    def set_policy(self, **changes) -> None:
        policy = {"schedule": "daily", "minimum_amount_minor": 1_000, "clearing_days": 0}
        services.payout_policy_set(**(policy | changes))


@pytest.fixture
def payouts(alpha, api, stripe):
    creds = connect_to_sandbox(stripe, alpha)
    world = Licensee(licensee=alpha, api=api, stripe=stripe, creds=creds, slug="alpha")
    world.enter()
    world.set_policy()
    yield world


@pytest.fixture
def luna(payouts):
    advisor = make_advisor("luna@example.test")
    return advisor, payouts.token("luna@example.test")


@pytest.fixture
def admin_token(payouts):
    User.objects.create(
        email="boss@example.test", role="admin", password=password_hash(), display_name="Boss"
    )
    return payouts.token("boss@example.test")
