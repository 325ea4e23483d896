"""A licensee ready for calls: an online advisor at €2.00/min and a caller with credit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from identity.models import User
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls import services
from tenant_apps.wallets import selectors as wallet_selectors
from tenant_apps.wallets import services as wallet_services
from tenant_apps.wallets.models import AccountKind
from tenant_apps.wallets.services import Leg, account_for
from tests.factories import PASSWORD, password_hash


def credit(user_id: int, amount: int, key: str = "credit") -> None:
    wallet_services.ledger_post(
        idempotency_key=f"{key}:{user_id}",
        kind="credit",
        description="test credit",
        legs=[
            Leg(account_for(kind=AccountKind.PROMO), -amount),
            Leg(account_for(kind=AccountKind.WALLET, owner_id=user_id), amount),
        ],
    )


def make_advisor(
    email: str, rate: int = 200, status: str = "online", display_name: str = "Luna"
) -> Advisor:
    user = User.objects.create(
        email=email, role="advisor", password=password_hash(), display_name=display_name
    )
    return Advisor.objects.create(
        user=user, display_name=display_name, rate_minor_per_minute=rate, status=status
    )


def make_caller(email: str, credit_minor: int = 2_000) -> User:
    user = User.objects.create(
        email=email, role="end_user", password=password_hash(), display_name="Casey"
    )
    if credit_minor:
        credit(user.pk, credit_minor)
    return user


@dataclass
class World:
    caller: User
    advisor: Advisor
    caller_token: str
    advisor_token: str
    api: object
    livekit: object
    licensee: object

    def wallet(self, user_id: int | None = None):
        return wallet_selectors.wallet_balance_get(user_id=user_id or self.caller.pk)

    def earnings(self) -> int:
        return account_for(
            kind=AccountKind.ADVISOR_EARNINGS, owner_id=self.advisor.user_id
        ).balance_minor

    def post(self, path, token=None, body=None):
        return self.api("alpha").post(path, body or {}, token=token)

    def request_call(self) -> dict:
        response = self.post("/api/v1/calls", self.caller_token, {"advisor_id": self.advisor.pk})
        assert response.status_code == 201, response.content
        return response.json()

    def post_webhook(self, body: bytes, authorization: str, host: str | None = None):
        response = self.api(host).client.post(
            "/webhooks/livekit",
            body,
            content_type="application/webhook+json",
            HTTP_AUTHORIZATION=authorization,
        )
        connection.set_tenant(self.licensee)  # the request left the connection on its host
        return response

    def deliver(self, room: str, index: int = -1) -> dict:
        """Post the sandbox's latest (or given) webhook for the room to the public host."""
        event = self.livekit.events(room)[index]
        response = self.post_webhook(*self.livekit.signed_event(event["id"]))
        assert response.status_code == 200, response.content
        return response.json()

    def both_join(self, room: str) -> None:
        self.livekit.join(room, services.identity_of(self.caller.pk))
        self.deliver(room)
        self.livekit.join(room, services.identity_of(self.advisor.user_id))
        self.deliver(room)


@pytest.fixture
def world(alpha, api, livekit) -> World:
    with schema_context("alpha"):
        connection.tenant = alpha
        advisor = make_advisor("luna@example.test")
        caller = make_caller("casey@example.test")

    def token(email):
        return (
            api("alpha")
            .post("/api/v1/auth/token", {"email": email, "password": PASSWORD})
            .json()["access"]
        )

    made = World(
        caller=caller,
        advisor=advisor,
        caller_token=token("casey@example.test"),
        advisor_token=token("luna@example.test"),
        api=api,
        livekit=livekit,
        licensee=alpha,
    )
    with schema_context("alpha"):
        connection.tenant = alpha
        yield made


@pytest.fixture
def clock():
    """Frozen time that a test moves forward by hand: clock.advance(95)."""

    class Clock:
        def __init__(self):
            self.now = timezone.now().replace(microsecond=0)
            self.traveller = time_machine.travel(self.now, tick=False)
            self.shift = self.traveller.start()

        def advance(self, seconds: float) -> datetime:
            self.now = self.now + timedelta(seconds=seconds)
            self.shift.move_to(self.now)
            return self.now

    made = Clock()
    yield made
    made.traveller.stop()
