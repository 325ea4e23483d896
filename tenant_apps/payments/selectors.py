from __future__ import annotations

from datetime import datetime
from typing import NotRequired, TypedDict

from django.db.models import QuerySet

from branding.selectors import brand_current
from kernel import crypto
from tenant_apps.payments import connect_events
from tenant_apps.payments.models import StripeConnection, TopUp, TopUpPackage, TopUpPolicy
from tenants.bridge import licensee_current


def stripe_connection_get() -> StripeConnection | None:
    return StripeConnection.objects.first()


class StripeConnectionSummary(TypedDict):
    """The Stripe connection as admins see it; the keys beyond `connected` only when it is."""

    connected: bool
    account_id: NotRequired[str]
    account_name: NotRequired[str]
    livemode: NotRequired[bool]
    secret_key: NotRequired[str]
    publishable_key: NotRequired[str]
    webhook_secret: NotRequired[str]
    connect_webhook_secret: NotRequired[str | None]
    connected_at: NotRequired[datetime]


class TopUpReceipt(TypedDict):
    number: str
    topup_id: int
    merchant: str
    email: str
    paid_at: datetime | None
    amount_minor: int
    bonus_minor: int
    refunded_minor: int
    currency: str
    amount_display: str
    bonus_display: str
    payment_reference: str | None


def stripe_connection_summary() -> StripeConnectionSummary:
    """The connection state with every key masked: never a full key in a reply."""
    row = stripe_connection_get()
    if row is None:
        return {"connected": False}
    return {
        "connected": True,
        "account_id": row.account_id,
        "account_name": row.account_name,
        "livemode": row.livemode,
        "secret_key": crypto.mask(crypto.decrypt(row.secret_key_encrypted)),
        "publishable_key": crypto.mask(row.publishable_key),
        "webhook_secret": crypto.mask(crypto.decrypt(row.webhook_secret_encrypted)),
        "connect_webhook_secret": (
            crypto.mask(crypto.decrypt(row.connect_webhook_secret_encrypted))
            if row.connect_webhook_secret_encrypted
            else None
        ),
        "connected_at": row.connected_at,
    }


# The licensee's own account's events that payments acts on (services._handle).
ACCOUNT_EVENT_TYPES = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
)


class WebhookEndpoint(TypedDict):
    url: str
    connect: bool  # registered at Stripe as a Connect endpoint ("events on connected accounts")
    events: list[str]


def stripe_webhook_endpoints(*, origin: str) -> list[WebhookEndpoint]:
    """The two endpoints a licensee registers at Stripe, each with the events it needs."""
    return [
        {
            "url": f"{origin}/webhooks/stripe",
            "connect": False,
            "events": [*ACCOUNT_EVENT_TYPES, *connect_events.platform_event_types()],
        },
        {
            "url": f"{origin}/webhooks/stripe/connect",
            "connect": True,
            "events": connect_events.connected_account_event_types(),
        },
    ]


def topup_policy_get() -> TopUpPolicy:
    return TopUpPolicy.objects.first() or TopUpPolicy()


def topup_packages_active() -> QuerySet[TopUpPackage]:
    return TopUpPackage.objects.filter(active=True).order_by("sort_order", "amount_minor")


def topup_get_for_user(*, user_id: int, topup_id: int) -> TopUp | None:
    return TopUp.objects.filter(pk=topup_id, user_id=user_id).first()


def topup_receipt(*, topup_id: int, user_id: int | None = None) -> TopUpReceipt | None:
    """A completed top-up's receipt, or None (not found, not the user's, or not paid)."""
    topups = TopUp.objects.select_related("user").filter(pk=topup_id, status=TopUp.Status.SUCCEEDED)
    if user_id is not None:
        topups = topups.filter(user_id=user_id)
    topup = topups.first()
    if topup is None:
        return None
    tenant = licensee_current()
    return {
        "number": f"{tenant.slug.upper()}-T{topup.pk:06d}",
        "topup_id": topup.pk,
        "merchant": tenant.display_name,
        "email": topup.user.email,
        "paid_at": topup.succeeded_at,
        "amount_minor": topup.amount_minor,
        "bonus_minor": topup.bonus_minor,
        "refunded_minor": topup.refunded_minor,
        "currency": topup.currency,
        "amount_display": brand_current().money(topup.amount_minor),
        "bonus_display": brand_current().money(topup.bonus_minor),
        "payment_reference": topup.payment_intent_id,
    }
