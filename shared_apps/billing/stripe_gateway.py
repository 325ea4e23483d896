"""The only module that talks to Stripe for Callrix's own billing of licensees (Stripe
Billing on Callrix's account — not a licensee's account, which `tenant_apps.payments` uses).
It speaks our words (plans, sign-ups, revenue share) to the rest of the code and Stripe's to
Stripe, through the official SDK, against `STRIPE_API_BASE` when set (the local sandbox)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from stripe.params import CustomerCreateParamsAddress, SubscriptionCreateParams

from shared_apps.billing.errors import BadWebhook, BillingUnavailable, MeterEventRefused

SIGNATURE_TOLERANCE_SECONDS = 300
# The meter counting talk minutes past a plan's included ones (one per Stripe account).
OVERAGE_EVENT_NAME = "callrix_overage_minutes"

# A postal address as Stripe takes it for a customer (line1, line2, city, postal_code, country).
PostalAddress = CustomerCreateParamsAddress


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    amount_minor: int
    quantity: int
    subscription_item_id: str | None


@dataclass(frozen=True)
class StripeInvoice:
    id: str
    subscription_id: str | None
    number: str
    status: str
    billing_reason: str
    currency: str
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    amount_paid_minor: int
    amount_due_minor: int
    tax_details: list[dict[str, Any]]
    customer_name: str
    customer_address: dict[str, Any] | None
    period_start: datetime
    period_end: datetime
    created: datetime
    paid_at: datetime | None
    hosted_invoice_url: str
    client_secret: str
    lines: tuple[InvoiceLine, ...] = ()


@dataclass(frozen=True)
class StripeSubscription:
    id: str
    customer_id: str
    status: str
    current_period_start: datetime | None
    current_period_end: datetime | None
    trial_end: datetime | None
    canceled_at: datetime | None
    latest_invoice: StripeInvoice | None


def _client() -> stripe.StripeClient:
    secret_key = settings.CALLRIX_STRIPE_SECRET_KEY
    if not secret_key:
        raise BillingUnavailable("Billing is not configured (CALLRIX_STRIPE_SECRET_KEY).")
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": base} if base else None,
        # Explicit limits (settings, one block for every provider): no request waits out the
        # SDK's 80 s default; retries are safe, every write carries an idempotency key.
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.new_default_http_client(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )


def _unavailable(error: stripe.StripeError) -> BillingUnavailable:
    message = getattr(error, "user_message", None) or str(error) or "Stripe refused the request."
    if isinstance(error, stripe.APIConnectionError):
        message = "Stripe could not be reached. Please try again."
    return BillingUnavailable(f"Billing failed: {message}")


def _moment(timestamp: int | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, tz=UTC) if timestamp else None


def customer_create(
    *,
    company: str,
    email: str,
    phone: str,
    address: PostalAddress,
    metadata: dict[str, str],
    idempotency_key: str,
) -> str:
    """The Stripe customer invoices are addressed to; returns its id."""
    try:
        customer = _client().v1.customers.create(
            params={
                "name": company,
                "email": email,
                "phone": phone or "",
                "address": address,
                "metadata": metadata,
            },
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise _unavailable(error) from None
    return customer["id"]


def plan_price_id(*, plan_code: str, plan_name: str, monthly_fee_minor: int, currency: str) -> str:
    """The monthly Stripe price for a plan at this fee, created on first use. Stripe prices
    cannot change, so the lookup key names the fee: a new fee is a new price, and licensees
    already subscribed keep theirs."""
    lookup_key = f"callrix-plan-{plan_code}-{currency.lower()}-{monthly_fee_minor}"
    client = _client()
    try:
        found = client.v1.prices.list(params={"lookup_keys": [lookup_key], "active": True})
        if found.data:
            return found.data[0]["id"]
        price = client.v1.prices.create(
            params={
                "currency": currency.lower(),
                "unit_amount": monthly_fee_minor,
                "recurring": {"interval": "month"},
                "product_data": {"name": f"Callrix {plan_name}", "metadata": {"plan": plan_code}},
                "lookup_key": lookup_key,
                "tax_behavior": "exclusive",
                "metadata": {"plan": plan_code},
            },
            options={"idempotency_key": lookup_key},
        )
    except stripe.StripeError as error:
        raise _unavailable(error) from None
    return price["id"]


def subscription_create(
    *,
    customer_id: str,
    price_id: str,
    trial_days: int,
    metadata: dict[str, str],
    idempotency_key: str,
) -> StripeSubscription:
    """Start a subscription. A paid one waits `incomplete` for its first invoice to be paid
    (the client confirms it with the invoice's client secret or pays on the hosted page)."""
    params: SubscriptionCreateParams = {
        "customer": customer_id,
        "items": [{"price": price_id}],
        "payment_behavior": "default_incomplete",
        "payment_settings": {"save_default_payment_method": "on_subscription"},
        "automatic_tax": {"enabled": settings.BILLING_AUTOMATIC_TAX},
        "metadata": metadata,
        "expand": ["latest_invoice", "latest_invoice.confirmation_secret"],
    }
    if trial_days:
        params["trial_period_days"] = trial_days
    try:
        subscription = _client().v1.subscriptions.create(
            params=params, options={"idempotency_key": idempotency_key}
        )
    except stripe.StripeError as error:
        raise _unavailable(error) from None
    return subscription_parse(subscription.to_dict())


def subscription_price_change(
    *, subscription_id: str, price_id: str, idempotency_key: str
) -> StripeSubscription:
    """Move the subscription's one item to another plan's price, prorated as Stripe does by
    default: a credit for the unused time on the old price and a charge for the rest of the
    period on the new one, both on the next invoice."""
    client = _client()
    try:
        subscription = client.v1.subscriptions.retrieve(subscription_id)
        # The plan's fee item, not the metered overage item beside it.
        item_id = next(
            item["id"]
            for item in subscription.to_dict()["items"]["data"]
            if (item["price"].get("recurring") or {}).get("usage_type") != "metered"
        )
        updated = client.v1.subscriptions.update(
            subscription_id,
            params={
                "items": [{"id": item_id, "price": price_id}],
                "proration_behavior": "create_prorations",
            },
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise _unavailable(error) from None
    return subscription_parse(updated.to_dict())


def _overage_meter_id(client: stripe.StripeClient) -> str:
    meters = client.v1.billing.meters.list(params={"status": "active", "limit": 100})
    for meter in meters.data:
        if meter["event_name"] == OVERAGE_EVENT_NAME:
            return meter["id"]
    meter = client.v1.billing.meters.create(
        params={
            "display_name": "Callrix talk minutes past the included ones",
            "event_name": OVERAGE_EVENT_NAME,
            "default_aggregation": {"formula": "sum"},
            "customer_mapping": {"type": "by_id", "event_payload_key": "stripe_customer_id"},
            "value_settings": {"event_payload_key": "value"},
        },
        options={"idempotency_key": f"meter-{OVERAGE_EVENT_NAME}"},
    )
    return meter["id"]


def overage_price_key(*, plan_code: str, currency: str, rate_minor_per_minute: int) -> str:
    return f"callrix-overage-{plan_code}-{currency.lower()}-{rate_minor_per_minute}"


def overage_price_id(
    *, plan_code: str, plan_name: str, rate_minor_per_minute: int, currency: str
) -> str:
    """The plan's metered monthly price for minutes past the included ones, on the overage
    meter (created on first use; prices cannot change, so the key names the rate)."""
    lookup_key = overage_price_key(
        plan_code=plan_code, currency=currency, rate_minor_per_minute=rate_minor_per_minute
    )
    client = _client()
    try:
        found = client.v1.prices.list(params={"lookup_keys": [lookup_key], "active": True})
        if found.data:
            return found.data[0]["id"]
        price = client.v1.prices.create(
            params={
                "currency": currency.lower(),
                "unit_amount": rate_minor_per_minute,
                "recurring": {
                    "interval": "month",
                    "usage_type": "metered",
                    "meter": _overage_meter_id(client),
                },
                "product_data": {
                    "name": f"Callrix {plan_name}: talk minutes past the included ones",
                    "metadata": {"plan": plan_code, "kind": "overage"},
                },
                "nickname": "Talk minutes past the included ones",
                "lookup_key": lookup_key,
                "tax_behavior": "exclusive",
                "metadata": {"plan": plan_code, "kind": "overage"},
            },
            options={"idempotency_key": lookup_key},
        )
    except stripe.StripeError as error:
        raise _unavailable(error) from None
    return price["id"]


def subscription_overage_item_set(
    *, subscription_id: str, item_id: str, price_id: str, idempotency_key: str
) -> str:
    """Put the subscription's metered overage item on `price_id`: added when there is none
    yet (`item_id` empty), else moved to it. Returns the item's id."""
    client = _client()
    try:
        if item_id:
            item = client.v1.subscription_items.update(
                item_id, params={"price": price_id}, options={"idempotency_key": idempotency_key}
            )
        else:
            item = client.v1.subscription_items.create(
                params={"subscription": subscription_id, "price": price_id},
                options={"idempotency_key": idempotency_key},
            )
    except stripe.StripeError as error:
        raise _unavailable(error) from None
    return item["id"]


def overage_minutes_report(
    *, customer_id: str, minutes: int, identifier: str, timestamp: datetime
) -> bool:
    """Report minutes past the included ones to the overage meter. Returns False when Stripe
    already holds an event with this identifier (a retry of one that reached it: delivered).
    Raises `BillingUnavailable` when Stripe cannot be asked (try again later) and
    `MeterEventRefused` when it refuses the event for good."""
    try:
        _client().v1.billing.meter_events.create(
            params={
                "event_name": OVERAGE_EVENT_NAME,
                "payload": {"stripe_customer_id": customer_id, "value": str(minutes)},
                "identifier": identifier,
                "timestamp": int(timestamp.timestamp()),
            }
        )
    except stripe.InvalidRequestError as error:
        message = getattr(error, "user_message", None) or str(error)
        if "already exists with identifier" in message:
            return False
        raise MeterEventRefused(f"Stripe refused the usage report: {message}") from None
    except stripe.StripeError as error:
        raise _unavailable(error) from None
    return True


def subscription_cancel(*, subscription_id: str) -> None:
    """End a subscription now (no proration); one already ended stays as it is."""
    client = _client()
    try:
        current = client.v1.subscriptions.retrieve(subscription_id)
        if current["status"] in ("canceled", "incomplete_expired"):
            return
        client.v1.subscriptions.cancel(subscription_id)
    except stripe.StripeError as error:
        raise _unavailable(error) from None


def invoice_item_create(
    *,
    customer_id: str,
    subscription_id: str,
    amount_minor: int,
    currency: str,
    description: str,
    period: tuple[datetime, datetime],
    metadata: dict[str, str],
    idempotency_key: str,
) -> str:
    """A charge added to the subscription's next invoice; returns the invoice item's id."""
    try:
        item = _client().v1.invoice_items.create(
            params={
                "customer": customer_id,
                "subscription": subscription_id,
                "amount": amount_minor,
                "currency": currency.lower(),
                "description": description,
                "period": {
                    "start": int(period[0].timestamp()),
                    "end": int(period[1].timestamp()),
                },
                "metadata": metadata,
            },
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise _unavailable(error) from None
    return item["id"]


def webhook_event_parse(*, payload: bytes, signature: str) -> dict[str, Any]:
    """Verify a webhook's `Stripe-Signature` with Callrix's signing secret (HMAC-SHA256 over
    "t.payload", within the tolerance) and return the event as a dict."""
    secret = settings.CALLRIX_STRIPE_WEBHOOK_SECRET
    if not secret:
        raise BadWebhook("Billing webhooks are not configured.")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, secret, SIGNATURE_TOLERANCE_SECONDS
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError):
        raise BadWebhook("The webhook signature is invalid or expired.") from None
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise BadWebhook("The webhook body is not a Stripe event.")
    return event


# --- Stripe's objects in our words --------------------------------------------------------


def _invoice_subscription_id(invoice: dict[str, Any]) -> str | None:
    # Since API version 2025-03-31 the subscription sits under `parent`; before, at the top.
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    found = details.get("subscription") or invoice.get("subscription")
    return found if isinstance(found, str) else (found or {}).get("id")


def _invoice_tax(invoice: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    taxes = invoice.get("total_taxes")
    if taxes is None:  # before 2025-03-31: `tax` and `total_tax_amounts`
        return int(invoice.get("tax") or 0), list(invoice.get("total_tax_amounts") or [])
    return sum(int(tax.get("amount") or 0) for tax in taxes), list(taxes)


def _invoice_lines(invoice: dict[str, Any]) -> tuple[InvoiceLine, ...]:
    lines = []
    for line in (invoice.get("lines") or {}).get("data") or []:
        parent = line.get("parent") or {}
        item = (parent.get("subscription_item_details") or {}).get("subscription_item")
        lines.append(
            InvoiceLine(
                description=str(line.get("description") or ""),
                amount_minor=int(line.get("amount") or 0),
                quantity=int(line.get("quantity") or 0),
                subscription_item_id=item if isinstance(item, str) else None,
            )
        )
    return tuple(lines)


def invoice_parse(invoice: dict[str, Any]) -> StripeInvoice:
    tax_minor, tax_details = _invoice_tax(invoice)
    transitions = invoice.get("status_transitions") or {}
    secret = invoice.get("confirmation_secret") or {}
    created = _moment(invoice.get("created")) or datetime.now(tz=UTC)
    return StripeInvoice(
        id=invoice["id"],
        subscription_id=_invoice_subscription_id(invoice),
        number=invoice.get("number") or "",
        status=invoice.get("status") or "draft",
        billing_reason=invoice.get("billing_reason") or "",
        currency=(invoice.get("currency") or "").upper(),
        subtotal_minor=int(invoice.get("subtotal") or 0),
        tax_minor=tax_minor,
        total_minor=int(invoice.get("total") or 0),
        amount_paid_minor=int(invoice.get("amount_paid") or 0),
        amount_due_minor=int(invoice.get("amount_due") or 0),
        tax_details=tax_details,
        customer_name=invoice.get("customer_name") or "",
        customer_address=invoice.get("customer_address"),
        period_start=_moment(invoice.get("period_start")) or created,
        period_end=_moment(invoice.get("period_end")) or created,
        created=created,
        paid_at=_moment(transitions.get("paid_at")),
        hosted_invoice_url=invoice.get("hosted_invoice_url") or "",
        client_secret=secret.get("client_secret") or "",
        lines=_invoice_lines(invoice),
    )


def subscription_parse(subscription: dict[str, Any]) -> StripeSubscription:
    items = (subscription.get("items") or {}).get("data") or [{}]
    # Since 2025-03-31 the period is per item; before, on the subscription.
    period_start = items[0].get("current_period_start") or subscription.get("current_period_start")
    period_end = items[0].get("current_period_end") or subscription.get("current_period_end")
    latest = subscription.get("latest_invoice")
    customer = subscription.get("customer")
    return StripeSubscription(
        id=subscription["id"],
        customer_id=customer if isinstance(customer, str) else (customer or {}).get("id", ""),
        status=subscription.get("status") or "incomplete",
        current_period_start=_moment(period_start),
        current_period_end=_moment(period_end),
        trial_end=_moment(subscription.get("trial_end")),
        canceled_at=_moment(subscription.get("canceled_at")),
        latest_invoice=invoice_parse(latest) if isinstance(latest, dict) else None,
    )
