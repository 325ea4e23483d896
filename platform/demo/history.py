"""Three past weeks for the demo licensee: callers who joined and topped up through the Stripe
sandbox, and calls with its advisors, written through the real payment, call and payout
services at past moments (the clock is moved with time-machine), so the dashboard has real
figures to chart and an advisor has earnings past the clearing period to be paid.

Stripe's webhooks for these past payments cannot reach a web server that is not running yet,
so the demo plays the delivery itself: it signs each event with the licensee's webhook secret
(Stripe's algorithm) and hands it to the same record-and-process path the webhook uses.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

import time_machine
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from demo import offline
from kernel import crypto
from kernel.tenant_connection import connection
from sandboxes.stripe_sandbox import sign
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls import services as call_services
from tenant_apps.calls.models import Call
from tenant_apps.payments import selectors as payment_selectors
from tenant_apps.payments import services as payment_services
from tenant_apps.payments import stripe_gateway
from tenant_apps.payments.models import StripeConnection
from tenant_apps.payouts import selectors as payout_selectors
from tenant_apps.payouts import services as payout_services
from tenant_apps.wallets.errors import InsufficientFunds

HISTORY_DAYS = 21
# (e-mail, name, joined days ago, calls made, usual top-up in minor units)
HISTORY_CALLERS = [
    ("nora@aurora.test", "Nora Lindqvist", 21, 8, 5_000),
    ("felix@aurora.test", "Felix Brandt", 19, 7, 2_000),
    ("ivy@aurora.test", "Ivy Okafor", 15, 6, 5_000),
    ("tomas@aurora.test", "Tomás Ruiz", 11, 5, 2_000),
    ("hana@aurora.test", "Hana Sato", 6, 4, 5_000),
    ("leo@aurora.test", "Leo Marchetti", 3, 2, 2_000),
]
PAID_ADVISOR = "luna@aurora.test"


def _sandbox_events(base: str, account_id: str, event_type: str) -> list[dict]:
    return offline.get_json(f"{base}/_sandbox/events?account={account_id}&type={event_type}")[
        "data"
    ]


def _stripe_connection() -> StripeConnection:
    row = payment_selectors.stripe_connection_get()
    if row is None:
        raise RuntimeError("the demo licensee is not connected to the Stripe sandbox")
    return row


def _deliver(event: dict) -> str:
    """Stripe's delivery of one event, played in this process at the current clock: a
    connected account's event to the Connect endpoint, with that endpoint's secret."""
    row = _stripe_connection()
    payload = json.dumps(event).encode()
    if event.get("account"):
        signature = sign(payload, crypto.decrypt(row.connect_webhook_secret_encrypted))
        record = payment_services.stripe_connect_event_record
    else:
        signature = sign(payload, crypto.decrypt(row.webhook_secret_encrypted))
        record = payment_services.stripe_event_record
    stored, _ = record(payload=payload, signature=signature)
    return payment_services.stripe_event_process(event_id=stored.event_id)


def _account_id() -> str:
    row = _stripe_connection()
    return stripe_gateway.account_fetch(
        secret_key=crypto.decrypt(row.secret_key_encrypted)
    ).account_id


def _pay_topup(*, user, amount_minor: int, stripe_base: str, account_id: str) -> None:
    topup = payment_services.topup_create(user=user, amount_minor=amount_minor)
    offline.post_json(f"{stripe_base}/_sandbox/payment_intents/{topup.payment_intent_id}/succeed")
    for event in _sandbox_events(stripe_base, account_id, "payment_intent.succeeded"):
        if event["data"]["object"]["id"] == topup.payment_intent_id:
            _deliver(event)
            return
    raise RuntimeError(f"the sandbox sent no payment_intent.succeeded for top-up {topup.pk}")


def _onboard(advisor: Advisor, *, stripe_base: str, account_id: str, origin: str) -> None:
    """The advisor finishes Stripe Connect onboarding at the sandbox."""
    payout_services.payout_onboarding_start(advisor=advisor, origin=origin)
    account = payout_selectors.payout_account_get(advisor_id=advisor.pk)
    if account is None:
        raise RuntimeError(f"onboarding gave advisor {advisor.pk} no payout account")
    connected = account.stripe_account_id
    offline.post_json(f"{stripe_base}/_sandbox/onboarding/{connected}/complete")
    for event in _sandbox_events(stripe_base, account_id, "account.updated"):
        if event["data"]["object"]["id"] == connected:
            _deliver(event)
            return
    raise RuntimeError(f"the sandbox sent no account.updated for {connected}")


def demo_history_ensure(*, licensee, stripe_base: str, origin: str) -> bool:
    """Write the history once (False if it is there already), in one transaction: an
    interrupted run leaves nothing, and the next start writes it whole."""
    User = get_user_model()
    with tenant_context(licensee), transaction.atomic():
        if Call.objects.filter(end_reason="history").exists():
            return False
        account_id = _account_id()
        rng = random.Random(2026)  # the same history on every machine
        advisors = list(Advisor.objects.order_by("pk"))
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        start = now - timedelta(days=HISTORY_DAYS)
        # Each caller joins, tops up, and calls every day or two, topping up again when the
        # wallet runs low, as callers do.
        moments: list[tuple[datetime, str, str]] = []
        topup_of: dict[str, int] = {}
        for email, _name, joined_days_ago, calls, topup in HISTORY_CALLERS:
            topup_of[email] = topup
            joined = now - timedelta(days=joined_days_ago, hours=rng.randint(1, 10))
            moments.append((joined, "join", email))
            day = joined
            for _ in range(calls):
                day += timedelta(hours=rng.randint(8, 50))
                if day < now - timedelta(hours=1):
                    moments.append((day, "call", email))
        moments.sort(key=lambda item: item[0])
        names = {email: name for email, name, *_ in HISTORY_CALLERS}

        def top_up(user) -> None:
            _pay_topup(
                user=user,
                amount_minor=topup_of[user.email],
                stripe_base=stripe_base,
                account_id=account_id,
            )

        with time_machine.travel(start, tick=False) as clock:
            for moment, kind, email in moments:
                clock.move_to(moment)
                if kind == "join":
                    user = User.objects.filter(email=email).first() or User.objects.create_user(
                        email, None, role="end_user", display_name=names[email]
                    )
                    top_up(user)
                    continue
                caller = User.objects.get(email=email)
                advisor = rng.choice(advisors)
                talk_seconds = rng.randint(3, 14) * 60 + rng.randint(0, 59)
                for _ in range(4):
                    try:
                        call_services.call_history_record(
                            caller=caller, advisor=advisor, talk_seconds=talk_seconds
                        )
                        break
                    except InsufficientFunds:
                        top_up(caller)
                        clock.shift(timedelta(minutes=3))
            clock.move_to(start + timedelta(days=1))
            luna = Advisor.objects.get(user__email=PAID_ADVISOR)
            _onboard(luna, stripe_base=stripe_base, account_id=account_id, origin=origin)
    # After the commit: its on-commit work (receipts) ran in the licensee's schema.
    connection.set_schema_to_public()
    return True
