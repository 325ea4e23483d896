"""The only module that talks to Stripe for a licensee. It speaks our words (top-ups,
refunds) to the rest of the code and Stripe's to Stripe, through the official SDK, against
`STRIPE_API_BASE` when set (the local sandbox) and Stripe itself otherwise."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings

from tenant_apps.payments.errors import (
    BadWebhook,
    InvalidStripeKeys,
    NotASandbox,
    PaymentError,
    RefundRefused,
    StripeUnavailable,
)

SIGNATURE_TOLERANCE_SECONDS = 300
# Keys the local Stripe sandbox (sandboxes/stripe_sandbox/) hands out; Stripe's never
# start like this.
SANDBOX_SECRET_PREFIX = "sk_test_sandbox_"
SANDBOX_PUBLISHABLE_PREFIX = "pk_test_sandbox_"

# A Stripe object or event as its JSON decodes: Stripe's shape, of which we read the keys we
# need (with `.get`, since Stripe adds and omits keys by API version and event).
StripeJson = dict[str, Any]


@dataclass(frozen=True)
class StripeAccount:
    account_id: str
    name: str
    livemode: bool


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    client_secret: str
    status: str


@dataclass(frozen=True)
class StripeRefund:
    id: str
    status: str


def _client(secret_key: str) -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": base} if base else None,
        # Explicit limits (settings, one block for every provider): no request waits out the
        # SDK's 80 s default; retries are safe, every write carries an idempotency key.
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.new_default_http_client(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )


def _translate(error: stripe.StripeError) -> Exception:
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        return InvalidStripeKeys("Stripe refused this key.", field="secret_key")
    if isinstance(error, stripe.APIConnectionError):
        return StripeUnavailable("Stripe could not be reached. Please try again.")
    message = getattr(error, "user_message", None) or str(error) or "Stripe refused the request."
    return StripeUnavailable(f"Stripe refused the request: {message}")


def account_fetch(*, secret_key: str) -> StripeAccount:
    """A live call that proves the key works and tells whose account it is."""
    try:
        account = _client(secret_key).v1.accounts.retrieve_current().to_dict()
    except stripe.StripeError as error:
        raise _translate(error) from None
    dashboard = (account.get("settings") or {}).get("dashboard") or {}
    name = dashboard.get("display_name") or account.get("email") or ""
    livemode = not secret_key.split("_")[1].startswith("test")
    return StripeAccount(account_id=account["id"], name=name, livemode=livemode)


def payment_intent_create(
    *,
    secret_key: str,
    amount_minor: int,
    currency: str,
    description: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> PaymentIntent:
    try:
        intent = _client(secret_key).v1.payment_intents.create(
            params={
                "amount": amount_minor,
                "currency": currency.lower(),
                "description": description,
                "metadata": metadata,
                "automatic_payment_methods": {"enabled": True},
            },
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise _translate(error) from None
    return PaymentIntent(
        id=intent["id"], client_secret=intent["client_secret"], status=intent["status"]
    )


def refund_create(
    *,
    secret_key: str,
    payment_intent_id: str,
    amount_minor: int,
    metadata: dict[str, str],
    idempotency_key: str,
) -> StripeRefund:
    try:
        refund = _client(secret_key).v1.refunds.create(
            params={
                "payment_intent": payment_intent_id,
                "amount": amount_minor,
                "metadata": metadata,
                "reason": "requested_by_customer",
            },
            options={"idempotency_key": idempotency_key},
        )
    except (stripe.InvalidRequestError, stripe.CardError) as error:
        # Stripe answered and made no refund (e.g. the charge is already refunded).
        message = getattr(error, "user_message", None) or str(error) or "Stripe refused."
        raise RefundRefused(f"Stripe refused the refund: {message}", field=None) from None
    except stripe.StripeError as error:
        raise _translate(error) from None
    return StripeRefund(id=refund["id"], status=refund["status"])


def webhook_event_parse(*, payload: bytes, signature: str, secret: str) -> StripeJson:
    """Verify a webhook's `Stripe-Signature` (HMAC-SHA256 over "t.payload" with the
    endpoint's signing secret, within the tolerance) and return the event as a dict."""
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


# --- Connect: advisors' Express accounts and the transfers that pay them --------------------


@dataclass(frozen=True)
class ConnectedAccount:
    id: str
    details_submitted: bool
    payouts_enabled: bool
    requirements_due: list[str]  # what the advisor still has to give Stripe
    disabled_reason: str


@dataclass(frozen=True)
class AccountLink:
    url: str
    expires_at: int  # unix seconds


@dataclass(frozen=True)
class Transfer:
    id: str
    amount_minor: int


class TransferRefused(PaymentError):
    """Stripe answered and made no transfer (e.g. `balance_insufficient`): the money can go
    back to the advisor's earnings, and a retry needs a new idempotency key, since Stripe
    replays a refusal to the same key."""

    status_code = 502
    code = "transfer_refused"


def connected_account_create(
    *, secret_key: str, email: str, metadata: dict[str, str], idempotency_key: str
) -> ConnectedAccount:
    try:
        account = (
            _client(secret_key)
            .v1.accounts.create(
                params={
                    "type": "express",
                    "email": email,
                    "capabilities": {"transfers": {"requested": True}},
                    "metadata": metadata,
                },
                options={"idempotency_key": idempotency_key},
            )
            .to_dict()
        )
    except stripe.StripeError as error:
        raise _translate(error) from None
    return connected_account_from(account)


def connected_account_from(account: StripeJson) -> ConnectedAccount:
    """Our view of a Stripe account object (from a reply or an `account.updated` event)."""
    requirements = account.get("requirements") or {}
    due = set(requirements.get("currently_due") or []) | set(requirements.get("past_due") or [])
    return ConnectedAccount(
        id=account.get("id") or "",
        details_submitted=bool(account.get("details_submitted")),
        payouts_enabled=bool(account.get("payouts_enabled")),
        requirements_due=sorted(due),
        disabled_reason=requirements.get("disabled_reason") or "",
    )


def connected_account_fetch(*, secret_key: str, account_id: str) -> ConnectedAccount:
    """The connected account as Stripe holds it now (`GET /v1/accounts/{id}`)."""
    try:
        account = _client(secret_key).v1.accounts.retrieve(account_id).to_dict()
    except stripe.StripeError as error:
        raise _translate(error) from None
    return connected_account_from(account)


def account_link_create(
    *, secret_key: str, account_id: str, refresh_url: str, return_url: str
) -> AccountLink:
    """A one-time, short-lived link to Stripe's hosted onboarding; never reused, so no key."""
    try:
        link = _client(secret_key).v1.account_links.create(
            params={
                "account": account_id,
                "refresh_url": refresh_url,
                "return_url": return_url,
                "type": "account_onboarding",
            }
        )
    except stripe.StripeError as error:
        raise _translate(error) from None
    return AccountLink(url=link["url"], expires_at=int(link["expires_at"]))


def transfer_create(
    *,
    secret_key: str,
    amount_minor: int,
    currency: str,
    destination: str,
    transfer_group: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> Transfer:
    """Raises `TransferRefused` when Stripe definitely made no transfer, `StripeUnavailable`
    when the outcome is unknown (network, Stripe's own error, a key still in use): the caller
    must then retry with the same key and the same parameters."""
    try:
        transfer = _client(secret_key).v1.transfers.create(
            params={
                "amount": amount_minor,
                "currency": currency.lower(),
                "destination": destination,
                "transfer_group": transfer_group,
                "metadata": metadata,
            },
            options={"idempotency_key": idempotency_key},
        )
    except (stripe.IdempotencyError, stripe.RateLimitError):
        raise StripeUnavailable("Stripe could not take the transfer now.") from None
    except (
        stripe.InvalidRequestError,
        stripe.CardError,
        stripe.AuthenticationError,
        stripe.PermissionError,
    ) as error:
        message = getattr(error, "user_message", None) or str(error) or "Stripe refused."
        raise TransferRefused(message, code=getattr(error, "code", None)) from None
    except stripe.StripeError as error:
        raise _translate(error) from None
    return Transfer(id=transfer["id"], amount_minor=int(transfer["amount"]))


def transfer_find(
    *, secret_key: str, transfer_group: str, metadata: dict[str, str]
) -> Transfer | None:
    """The transfer of this group whose metadata carries these values, if Stripe made one:
    asked before a transfer is sent again once its idempotency key may be forgotten (Stripe
    keeps keys 24 hours)."""
    try:
        listed = _client(secret_key).v1.transfers.list(
            params={"transfer_group": transfer_group, "limit": 100}
        )
    except stripe.StripeError as error:
        raise _translate(error) from None
    for transfer in listed.data:
        found = transfer.to_dict()
        carried = found.get("metadata") or {}
        if all(carried.get(key) == value for key, value in metadata.items()):
            return Transfer(id=found["id"], amount_minor=int(found["amount"]))
    return None


def is_sandbox_key(key: str) -> bool:
    return key.startswith((SANDBOX_SECRET_PREFIX, SANDBOX_PUBLISHABLE_PREFIX))


def sandbox_card_payment(*, secret_key: str, payment_intent_id: str, succeed: bool) -> None:
    """Play the customer's card payment on the local sandbox, which has no Stripe.js: it
    completes (or declines) the payment intent and sends the signed webhook as Stripe does.
    Refused for any key that is not the sandbox's, so it can never touch real Stripe."""
    base = settings.STRIPE_API_BASE
    if not is_sandbox_key(secret_key) or not base:
        raise NotASandbox("Card payments here go through Stripe itself.", field=None)
    verb = "succeed" if succeed else "fail"
    request = urllib.request.Request(
        f"{base.rstrip('/')}/_sandbox/payment_intents/{payment_intent_id}/{verb}",
        data=b"{}",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.STRIPE_TIMEOUT_SECONDS):
            pass
    except urllib.error.HTTPError as error:
        raise StripeUnavailable(f"The Stripe sandbox refused: {error.read()[:200]!r}") from None
    except urllib.error.URLError:
        raise StripeUnavailable("The Stripe sandbox could not be reached.") from None
