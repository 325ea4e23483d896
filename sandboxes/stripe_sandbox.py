"""A local, stateful fake of the Stripe HTTP API for the tests and the offline demo.

The official `stripe` SDK works against it when pointed at its base URL, and it sends webhooks
signed with Stripe's real scheme (`Stripe-Signature: t=…,v1=HMAC-SHA256`). Only the standard
library is used: the product imports this module at run time with its base dependencies only.

    sandbox = StripeSandbox()
    server, base_url = serve(sandbox=sandbox)
    creds = sandbox.create_account(webhook_url="http://127.0.0.1:8000/webhooks/stripe")
    client = stripe.StripeClient(creds["secret_key"], base_addresses={"api": base_url})

Routes under `/_sandbox/` are not Stripe's: they play the customer's and Stripe's part
(a card payment succeeds, a charge is disputed, an advisor finishes Connect onboarding).
"""

from __future__ import annotations

import argparse
import base64
import calendar
import copy
import hashlib
import hmac
import html
import http
import json
import logging
import os
import re
import secrets
import string
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from sandboxes._server import DeliveryQueue, ThreadingServer, build_server, serve_in_thread

logger = logging.getLogger(__name__)

# The version the installed SDK (stripe 16) pins; events say which version shaped them.
API_VERSION = "2026-10-28.endive"
ONBOARDING_LINK_TTL_SECONDS = 300
WEBHOOK_TIMEOUT_SECONDS = 10
DOCS_URL = "https://stripe.com/docs/error-codes"

# URL collection -> the `object` value of what it holds, for the generic retrieve/list routes.
COLLECTIONS = {
    "payment_intents": "payment_intent",
    "charges": "charge",
    "refunds": "refund",
    "disputes": "dispute",
    "transfers": "transfer",
    "accounts": "account",
    "events": "event",
}
LIST_FILTERS = {
    "payment_intents": ("customer",),
    "charges": ("payment_intent",),
    "refunds": ("payment_intent", "charge"),
    "disputes": ("charge", "payment_intent"),
    "transfers": ("destination", "transfer_group"),
    "accounts": (),
    "events": ("type",),
}
CANCELABLE_STATUSES = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
PAYABLE_STATUSES = ("requires_payment_method", "requires_confirmation", "requires_action")
OPEN_DISPUTE_STATUSES = ("needs_response", "under_review", "warning_needs_response")
ONBOARDING_REQUIREMENTS = [
    "business_type",
    "external_account",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]
# Stripe-Account (acting as a connected account) is honoured only where the sandbox has the
# connected account's data to answer with.
CONNECTED_ACCOUNT_PATHS = ("/v1/account", "/v1/balance")


class StripeApiError(Exception):
    """An error answered in Stripe's JSON shape, which the SDK maps to its exception classes
    by HTTP status (400/404 InvalidRequestError, 401 AuthenticationError, 403 PermissionError)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        error_type: str = "invalid_request_error",
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.error_type = error_type

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.error_type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"{DOCS_URL}#{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def _missing(noun: str, object_id: str, param: str = "id") -> StripeApiError:
    return StripeApiError(
        404, f"No such {noun}: '{object_id}'", code="resource_missing", param=param
    )


# ---------------------------------------------------------------------------------------------
# Stripe's form encoding and typed parameters


_BRACKETED = re.compile(r"\[([^\[\]]*)\]")


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding into nested data: `metadata[a]=1` is a hash, `expand[0]=x` and
    `expand[]=x` are lists. Values stay strings, as on the wire."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head, _, rest = key.partition("[")
        path = [head, *_BRACKETED.findall("[" + rest)] if rest else [head]
        node = root
        for part in path[:-1]:
            node = _child_hash(node, part or str(len(node)))
        leaf = path[-1] or str(len(node))
        if isinstance(node.get(leaf), dict):
            raise StripeApiError(400, f"Invalid hash: {key} is given a plain value.", param=head)
        node[leaf] = value
    return _listify(root)


def _child_hash(node: dict[str, Any], part: str) -> dict[str, Any]:
    child = node.setdefault(part, {})
    if not isinstance(child, dict):
        raise StripeApiError(400, f"Invalid hash: {part} is given both a value and keys.")
    return child


def _listify(value: Any, key: str = "") -> Any:
    """Hashes keyed 0, 1, 2 … are arrays; metadata keys are the user's own, so never."""
    if not isinstance(value, dict) or key == "metadata":
        return value
    items = {k: _listify(v, k) for k, v in value.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


class Params:
    """Typed access to one request's parameters; unknown ones are refused as Stripe does,
    so a typo in the product fails in the tests rather than in production."""

    def __init__(self, data: dict[str, Any], allowed: tuple[str, ...] = ()):
        unknown = sorted(set(data) - set(allowed) - {"expand"})
        if unknown:
            raise StripeApiError(
                400,
                f"Received unknown parameter: {unknown[0]}",
                code="parameter_unknown",
                param=unknown[0],
            )
        self.data = data

    def integer(self, name: str, *, required: bool = False, minimum: int = 1) -> int | None:
        raw = self.data.get(name)
        if raw in (None, ""):
            return self._absent(name, required)
        try:
            value = int(str(raw))
        except ValueError:
            raise StripeApiError(
                400, f"Invalid integer: {raw}", code="parameter_invalid_integer", param=name
            ) from None
        if value < minimum:
            raise StripeApiError(
                400,
                f"This value must be greater than or equal to {minimum}.",
                code="parameter_invalid_integer",
                param=name,
            )
        return value

    def text(
        self, name: str, *, required: bool = False, choices: tuple[str, ...] = ()
    ) -> str | None:
        raw = self.data.get(name)
        if raw in (None, ""):
            return self._absent(name, required)
        if not isinstance(raw, str):
            raise StripeApiError(400, f"Invalid string: {name}", param=name)
        if choices and raw not in choices:
            raise StripeApiError(
                400,
                f"Invalid {name}: must be one of {', '.join(choices)}",
                code="parameter_invalid_string",
                param=name,
            )
        return raw

    def currency(self) -> str:
        value = self.text("currency", required=True) or ""
        if len(value) != 3 or not value.isalpha():
            raise StripeApiError(400, f"Invalid currency: {value}", param="currency")
        return value.lower()

    def flag(self, name: str) -> bool | None:
        raw = self.data.get(name)
        return None if raw in (None, "") else str(raw).lower() == "true"

    def mapping(self, name: str) -> dict[str, Any]:
        raw = self.data.get(name)
        if raw in (None, ""):
            return {}
        if not isinstance(raw, dict):
            raise StripeApiError(400, f"Invalid object: {name}", param=name)
        return raw

    def metadata(self) -> dict[str, str]:
        # Stripe stores metadata values as strings; an empty value unsets the key.
        return {k: str(v) for k, v in self.mapping("metadata").items() if v != ""}

    @property
    def expand(self) -> list[str]:
        raw = self.data.get("expand") or []
        return [raw] if isinstance(raw, str) else list(raw)

    @staticmethod
    def _absent(name: str, required: bool) -> None:
        if required:
            raise StripeApiError(
                400, f"Missing required param: {name}.", code="parameter_missing", param=name
            )
        return None


# ---------------------------------------------------------------------------------------------
# Ids, keys and signatures


_ALPHABET = string.ascii_letters + string.digits


def _token(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{_token(length)}"


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value: `t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _mask_key(key: str) -> str:
    return key[:8] + "*" * max(len(key) - 12, 0) + key[-4:]


def _bearer_key(authorization: str) -> str:
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":  # `curl -u sk_test_…:` as in Stripe's own docs
        try:
            return base64.b64decode(credentials).decode().partition(":")[0]
        except ValueError:
            return ""
    return ""


# ---------------------------------------------------------------------------------------------
# Stripe objects, built as plain dicts shaped like the API's


def _now() -> int:
    return int(time.time())


def _base(prefix: str, object_type: str) -> dict[str, Any]:
    return {"id": new_id(prefix), "object": object_type, "created": _now(), "livemode": False}


def _empty_list(url: str) -> dict[str, Any]:
    return {"object": "list", "data": [], "has_more": False, "total_count": 0, "url": url}


def _platform_account_object(account: SandboxAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "object": "account",
        "type": "standard",
        "created": account.created,
        "email": account.email,
        "country": "US",
        "default_currency": "usd",
        "charges_enabled": True,
        "payouts_enabled": True,
        "details_submitted": True,
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "requirements": _requirements(due=[]),
        "business_profile": {"name": account.display_name, "url": None},
        "settings": {"dashboard": {"display_name": account.display_name, "timezone": "Etc/UTC"}},
        "metadata": {},
    }


def _requirements(due: list[str]) -> dict[str, Any]:
    return {
        "currently_due": list(due),
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
        "errors": [],
        "current_deadline": None,
        "disabled_reason": "requirements.past_due" if due else None,
    }


def _connected_account_object(params: Params) -> dict[str, Any]:
    # Stripe wants either an account type or, in its newer API, a `controller` hash.
    needs_type = not params.mapping("controller")
    account_type = params.text(
        "type", required=needs_type, choices=("express", "standard", "custom")
    )
    requested = [
        name
        for name, wanted in params.mapping("capabilities").items()
        if isinstance(wanted, dict) and str(wanted.get("requested")).lower() == "true"
    ] or ["transfers"]
    email = params.text("email")
    return {
        **_base("acct", "account"),
        "type": account_type or "express",
        "email": email,
        "country": (params.text("country") or "US").upper(),
        "default_currency": (params.text("default_currency") or "usd").lower(),
        "business_type": params.text("business_type"),
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": False,
        "capabilities": {name: "inactive" for name in requested},
        "requirements": _requirements(due=ONBOARDING_REQUIREMENTS),
        "business_profile": params.mapping("business_profile") or {"name": None, "url": None},
        "settings": {"dashboard": {"display_name": email, "timezone": "Etc/UTC"}},
        "metadata": params.metadata(),
    }


def _payment_intent_object(params: Params) -> dict[str, Any]:
    intent = _base("pi", "payment_intent")
    automatic = params.mapping("automatic_payment_methods")
    return {
        **intent,
        "client_secret": f"{intent['id']}_secret_{_token(25)}",
        "amount": params.integer("amount", required=True),
        "amount_received": 0,
        "currency": params.currency(),
        "status": "requires_payment_method",
        "capture_method": "automatic",
        "confirmation_method": "automatic",
        "automatic_payment_methods": (
            {"enabled": str(automatic.get("enabled")).lower() == "true"} if automatic else None
        ),
        "payment_method_types": params.data.get("payment_method_types") or ["card"],
        "description": params.text("description"),
        "customer": params.text("customer"),
        "receipt_email": params.text("receipt_email"),
        "statement_descriptor": params.text("statement_descriptor"),
        "statement_descriptor_suffix": params.text("statement_descriptor_suffix"),
        "transfer_group": params.text("transfer_group"),
        "metadata": params.metadata(),
        "latest_charge": None,
        "payment_method": None,
        "last_payment_error": None,
        "canceled_at": None,
        "cancellation_reason": None,
    }


def _charge_object(intent: dict[str, Any]) -> dict[str, Any]:
    charge = _base("ch", "charge")
    return {
        **charge,
        "amount": intent["amount"],
        "amount_captured": intent["amount"],
        "amount_refunded": 0,
        "currency": intent["currency"],
        "status": "succeeded",
        "paid": True,
        "captured": True,
        "refunded": False,
        "disputed": False,
        "payment_intent": intent["id"],
        "payment_method": intent["payment_method"],
        "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
        "balance_transaction": new_id("txn"),
        "customer": intent["customer"],
        "description": intent["description"],
        "transfer_group": intent["transfer_group"],
        "metadata": dict(intent["metadata"]),
        "refunds": _empty_list(f"/v1/charges/{charge['id']}/refunds"),
    }


def _dispute_object(charge: dict[str, Any], amount: int, reason: str) -> dict[str, Any]:
    return {
        **_base("dp", "dispute"),
        "amount": amount,
        "currency": charge["currency"],
        "charge": charge["id"],
        "payment_intent": charge["payment_intent"],
        "reason": reason,
        "status": "needs_response",
        "is_charge_refundable": False,
        "evidence_details": {
            "due_by": _now() + 7 * 86400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "balance_transactions": [],
        "metadata": {},
    }


def _event_object(
    event_type: str,
    snapshot: dict[str, Any],
    *,
    request: CallContext | None,
    previous: dict[str, Any] | None,
    connected_account: str | None,
    pending_webhooks: int,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": copy.deepcopy(snapshot)}
    if previous:
        data["previous_attributes"] = previous
    event = {
        **_base("evt", "event"),
        "api_version": API_VERSION,
        "type": event_type,
        "data": data,
        "pending_webhooks": pending_webhooks,
        "request": {
            "id": request.request_id if request else None,
            "idempotency_key": request.idempotency_key if request else None,
        },
    }
    if connected_account:
        event["account"] = connected_account
    return event


# ---------------------------------------------------------------------------------------------
# Billing: customers, prices, subscriptions, invoices and invoice items (Stripe Billing, as
# Callrix's own account uses it to bill licensees)


BILLING_COLLECTIONS = {
    "customers": "customer",
    "products": "product",
    "prices": "price",
    "subscriptions": "subscription",
    "invoices": "invoice",
    "invoiceitems": "invoiceitem",
}
BILLING_LIST_FILTERS = {
    "customers": ("email",),
    "products": (),
    "prices": ("product",),
    "subscriptions": ("customer", "status"),
    "invoices": ("customer", "status"),
    "invoiceitems": ("customer", "invoice"),
}
COLLECTIONS.update(BILLING_COLLECTIONS)
LIST_FILTERS.update(BILLING_LIST_FILTERS)
# A stand-in for Stripe Tax: exclusive VAT by the customer's country when a subscription has
# `automatic_tax[enabled]`; other countries are "not_collecting".
AUTOMATIC_TAX_RATES_BPS = {"CY": 1900, "DE": 1900, "FR": 2000, "NL": 2100, "IE": 2300}
# Statuses a paid invoice brings back to `active`.
SUBSCRIPTION_OWING_STATUSES = ("incomplete", "past_due", "unpaid")
SUBSCRIPTION_ENDED_STATUSES = ("canceled", "incomplete_expired")
PAYMENT_RETRY_SECONDS = 3 * 86400
PRICE_INTERVALS = ("day", "week", "month", "year")


def _add_months(timestamp: int, months: int) -> int:
    """Stripe's monthly billing: the same day next month, or that month's last day."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def _timestamp(raw: Any, param: str, default: int) -> int:
    if raw in (None, ""):
        return default
    try:
        return int(str(raw))
    except ValueError:
        raise StripeApiError(
            400, f"Invalid timestamp: {raw}", code="parameter_invalid_integer", param=param
        ) from None


def _address_object(raw: dict[str, Any]) -> dict[str, Any] | None:
    if not raw:
        return None
    keys = ("line1", "line2", "city", "postal_code", "state", "country")
    return {key: (str(raw[key]) if raw.get(key) else None) for key in keys}


def _customer_object(params: Params) -> dict[str, Any]:
    return {
        **_base("cus", "customer"),
        "name": params.text("name"),
        "email": params.text("email"),
        "phone": params.text("phone"),
        "description": params.text("description"),
        "address": _address_object(params.mapping("address")),
        "currency": None,  # fixed by the first invoice or invoice item
        "tax_exempt": params.text("tax_exempt", choices=("none", "exempt", "reverse")) or "none",
        "invoice_prefix": _token(8).upper(),
        "next_invoice_sequence": 1,
        "invoice_settings": {"default_payment_method": None},
        "preferred_locales": params.data.get("preferred_locales") or [],
        "metadata": params.metadata(),
    }


def _price_object(params: Params) -> dict[str, Any]:
    recurring = params.mapping("recurring")
    if recurring and recurring.get("interval") not in PRICE_INTERVALS:
        raise StripeApiError(
            400,
            f"Invalid recurring[interval]: must be one of {', '.join(PRICE_INTERVALS)}",
            param="recurring[interval]",
        )
    return {
        **_base("price", "price"),
        "active": True,
        "currency": params.currency(),
        "unit_amount": params.integer("unit_amount", required=True, minimum=0),
        "product": params.text("product"),
        "type": "recurring" if recurring else "one_time",
        "recurring": (
            {
                "interval": recurring["interval"],
                "interval_count": int(str(recurring.get("interval_count") or 1)),
                "usage_type": "licensed",
            }
            if recurring
            else None
        ),
        "lookup_key": params.text("lookup_key"),
        "nickname": params.text("nickname"),
        "tax_behavior": params.text(
            "tax_behavior", choices=("exclusive", "inclusive", "unspecified")
        )
        or "unspecified",
        "metadata": params.metadata(),
    }


def _subscription_line(subscription: dict[str, Any], amount: int) -> dict[str, Any]:
    item = subscription["items"]["data"][0]
    price = item["price"]
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": amount,
        "currency": price["currency"],
        "description": f"1 × {price.get('nickname') or price['product']}",
        "period": {"start": item["current_period_start"], "end": item["current_period_end"]},
        "quantity": 1,
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price["product"]},
            "unit_amount_decimal": str(price["unit_amount"]),
        },
        "parent": {
            "type": "subscription_item_details",
            "subscription_item_details": {
                "subscription": subscription["id"],
                "subscription_item": item["id"],
                "invoice_item": None,
                "proration": False,
            },
        },
        "metadata": {},
    }


def _invoice_item_line(invoice_item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": invoice_item["amount"],
        "currency": invoice_item["currency"],
        "description": invoice_item["description"],
        "period": dict(invoice_item["period"]),
        "quantity": 1,
        "pricing": None,
        "parent": {
            "type": "invoice_item_details",
            "invoice_item_details": {
                "invoice_item": invoice_item["id"],
                "subscription": invoice_item["subscription"],
                "proration": False,
            },
        },
        "metadata": dict(invoice_item["metadata"]),
    }


def _total_taxes(subtotal: int, country: str | None, enabled: bool) -> list[dict[str, Any]]:
    if not enabled:
        return []
    rate_bps = AUTOMATIC_TAX_RATES_BPS.get(country or "")
    return [
        {
            "amount": (subtotal * rate_bps + 5_000) // 10_000 if rate_bps else 0,
            "tax_behavior": "exclusive",
            "taxable_amount": subtotal,
            "taxability_reason": "standard_rated" if rate_bps else "not_collecting",
            "type": "tax_rate_details",
            "tax_rate_details": {"tax_rate": f"txr_sandbox_{(country or 'xx').lower()}"},
        }
    ]


def _invoice_object(
    customer: dict[str, Any],
    subscription: dict[str, Any],
    lines: list[dict[str, Any]],
    *,
    billing_reason: str,
    period: tuple[int, int],
) -> dict[str, Any]:
    invoice = _base("in", "invoice")
    subtotal = sum(line["amount"] for line in lines)
    enabled = subscription["automatic_tax"]["enabled"]
    address = customer["address"] or {}
    taxes = _total_taxes(subtotal, address.get("country"), enabled)
    total = subtotal + sum(tax["amount"] for tax in taxes)
    return {
        **invoice,
        "customer": customer["id"],
        "customer_name": customer["name"],
        "customer_email": customer["email"],
        "customer_phone": customer["phone"],
        "customer_address": copy.deepcopy(customer["address"]),
        "customer_tax_exempt": customer["tax_exempt"],
        "customer_tax_ids": [],
        "number": None,
        "status": "draft",
        "currency": subscription["items"]["data"][0]["price"]["currency"],
        "billing_reason": billing_reason,
        "collection_method": subscription["collection_method"],
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal,
        "total_excluding_tax": subtotal,
        "total_taxes": taxes,
        "total": total,
        "amount_due": total,
        "amount_paid": 0,
        "amount_remaining": total,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": True,
        "next_payment_attempt": None,
        "period_start": period[0],
        "period_end": period[1],
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": False,
            "total_count": len(lines),
            "url": f"/v1/invoices/{invoice['id']}/lines",
        },
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "subscription": subscription["id"],
                "metadata": dict(subscription["metadata"]),
            },
        },
        "automatic_tax": {"enabled": enabled, "status": "complete" if enabled else None},
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        # Stripe shows this only when expanded; the sandbox always includes it.
        "confirmation_secret": None,
        "status_transitions": {
            "finalized_at": None,
            "paid_at": None,
            "voided_at": None,
            "marked_uncollectible_at": None,
        },
        "due_date": None,
        "description": None,
        "metadata": {},
    }


def _invoice_page(invoice: dict[str, Any]) -> str:
    invoice_id = html.escape(invoice["id"])
    number = html.escape(invoice["number"] or invoice["id"])
    amount = f"{invoice['amount_due'] / 100:.2f} {invoice['currency'].upper()}"
    forms = "".join(
        f"<form method='post' action='/_sandbox/invoices/{invoice_id}/{action}?redirect=1'>"
        f"<button type='submit'>{label}</button></form>"
        for action, label in (("pay", "Pay"), ("fail", "Decline the card"))
        if invoice["status"] == "open"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<title>Stripe sandbox invoice</title></head><body>"
        f"<h1>Invoice {number} (sandbox)</h1><p>{html.escape(amount)}: "
        f"{html.escape(invoice['status'])}.</p>{forms}</body></html>"
    )


# ---------------------------------------------------------------------------------------------
# HTTP plumbing


@dataclass
class SandboxAccount:
    """A platform Stripe account the sandbox answers for: a licensee's, or Callrix's own."""

    id: str
    secret_key: str
    publishable_key: str
    webhook_secret: str
    webhook_url: str | None = None
    webhook_host: str | None = None
    display_name: str = ""
    email: str = ""
    created: int = field(default_factory=_now)
    connected_accounts: list[str] = field(default_factory=list)

    def credentials(self) -> dict[str, Any]:
        return {
            "account_id": self.id,
            "secret_key": self.secret_key,
            "publishable_key": self.publishable_key,
            "webhook_secret": self.webhook_secret,
            "webhook_url": self.webhook_url,
            "webhook_host": self.webhook_host,
        }


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    base_url: str

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        return cls(
            method=environ["REQUEST_METHOD"].upper(),
            path=environ.get("PATH_INFO") or "/",
            query=environ.get("QUERY_STRING", ""),
            headers=headers,
            body=body,
            base_url=f"{environ.get('wsgi.url_scheme', 'http')}://{host}",
        )

    def json(self) -> dict[str, Any]:
        """A control route's input: JSON, or an HTML form's fields."""
        if not self.body:
            return {}
        if self.headers["content-type"].startswith("application/x-www-form-urlencoded"):
            return parse_form(self.body.decode())
        try:
            data = json.loads(self.body)
        except ValueError:
            raise StripeApiError(400, "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise StripeApiError(400, "The request body must be a JSON object.")
        return data


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def status_line(self) -> str:
        return f"{self.status} {http.HTTPStatus(self.status).phrase}"

    def wsgi_headers(self) -> list[tuple[str, str]]:
        return [
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(self.body))),
            *self.headers,
        ]


def json_response(status: int, data: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    body = json.dumps(data, indent=2).encode()
    return Response(status, body, headers=list(headers or []))


def error_response(error: StripeApiError) -> Response:
    return json_response(error.status, error.body())


@dataclass
class CallContext:
    """One authenticated Stripe API call."""

    account: SandboxAccount
    method: str
    path: str
    params: dict[str, Any]
    request_id: str
    idempotency_key: str | None
    stripe_account: str | None
    base_url: str

    @property
    def acting_account_id(self) -> str:
        return self.stripe_account or self.account.id

    def fingerprint(self) -> str:
        return json.dumps([self.method, self.path, self.params], sort_keys=True)


Route = tuple[str, re.Pattern[str], Callable[..., Any]]


def _route(method: str, pattern: str, handler: Callable[..., Any]) -> Route:
    return method, re.compile(pattern + "$"), handler


def _match(routes: list[Route], method: str, path: str) -> tuple[Callable[..., Any], dict] | None:
    for route_method, pattern, handler in routes:
        found = pattern.match(path)
        if found and route_method == method:
            return handler, found.groupdict()
    return None


# ---------------------------------------------------------------------------------------------
# The sandbox


class StripeSandbox:
    """The fake Stripe: a WSGI application holding every account's objects in memory."""

    def __init__(self, state_file: str | os.PathLike[str] | None = None):
        self.deliver_synchronously = False
        self._state_file = Path(state_file) if state_file else None
        # One lock for all state: every API call and control action runs whole under it, and
        # webhooks are sent only after it is released (a receiver may call back into us).
        self._lock = threading.Lock()
        self._accounts: dict[str, SandboxAccount] = {}
        self._objects: dict[str, dict[str, Any]] = {}
        self._owners: dict[str, str] = {}  # object id -> platform account id
        self._balances: dict[str, dict[str, int]] = {}  # account id -> currency -> minor units
        self._onboarding: dict[str, dict[str, Any]] = {}  # connected account -> latest link
        self._idempotency: dict[str, dict[str, Any]] = {}
        self._deliveries: dict[str, list[dict[str, Any]]] = {}
        self._outbox: list[str] = []
        self._deliveries_out = DeliveryQueue(
            self._deliver, thread_name="stripe-sandbox-webhooks", label="Stripe sandbox"
        )
        self._api_routes = self._build_api_routes()
        self._control_routes = self._build_control_routes()
        self._load()

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        request = Request.from_environ(environ)
        try:
            if request.path.startswith("/_sandbox/"):
                response = self._handle_control(request)
            else:
                response = self._handle_api(request)
        except StripeApiError as error:
            response = error_response(error)
        except Exception:
            logger.exception("Stripe sandbox failed on %s %s", request.method, request.path)
            response = error_response(
                StripeApiError(500, "The Stripe sandbox failed.", error_type="api_error")
            )
        start_response(response.status_line, response.wsgi_headers())
        return [response.body]

    # -- Stripe API ----------------------------------------------------------------------------

    def _build_api_routes(self) -> list[Route]:
        item = r"(?P<object_id>[A-Za-z0-9_]+)"
        return [
            _route("GET", r"/v1/account", self._api_account_retrieve),
            _route("GET", r"/v1/balance", self._api_balance_retrieve),
            _route("POST", r"/v1/payment_intents", self._api_payment_intent_create),
            _route("POST", rf"/v1/payment_intents/{item}/cancel", self._api_payment_intent_cancel),
            _route("POST", r"/v1/refunds", self._api_refund_create),
            _route("POST", r"/v1/accounts", self._api_connected_account_create),
            _route("POST", r"/v1/account_links", self._api_account_link_create),
            _route("POST", r"/v1/transfers", self._api_transfer_create),
            _route("POST", rf"/v1/transfers/{item}/reversals", self._api_transfer_reverse),
            *self._billing_api_routes(),
            _route("GET", rf"/v1/(?P<collection>[a-z_]+)/{item}", self._api_retrieve),
            _route("GET", r"/v1/(?P<collection>[a-z_]+)", self._api_list),
        ]

    def _handle_api(self, request: Request) -> Response:
        with self._transaction():
            call = self._authenticate(request)
            if call.method != "POST" or not call.idempotency_key:
                return self._dispatch(call)
            return self._dispatch_idempotently(call)

    def _authenticate(self, request: Request) -> CallContext:
        key = _bearer_key(request.headers.get("authorization", ""))
        if not key:
            raise StripeApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
            )
        account = next((a for a in self._accounts.values() if a.secret_key == key), None)
        if account is None:
            raise StripeApiError(401, f"Invalid API Key provided: {_mask_key(key)}")
        raw = request.query if request.method == "GET" else request.body.decode()
        return CallContext(
            account=account,
            method=request.method,
            path=request.path.rstrip("/") or "/",
            params=parse_form(raw),
            request_id=new_id("req", 14),
            idempotency_key=request.headers.get("idempotency-key") or None,
            stripe_account=request.headers.get("stripe-account") or None,
            base_url=request.base_url,
        )

    def _dispatch_idempotently(self, call: CallContext) -> Response:
        """Stripe replays the first response to a reused key, and refuses the key when the
        parameters differ."""
        slot = f"{call.account.id}:{call.idempotency_key}"
        saved = self._idempotency.get(slot)
        if saved is None:
            response = self._dispatch(call)
            self._idempotency[slot] = {
                "fingerprint": call.fingerprint(),
                "status": response.status,
                "body": response.body.decode(),
                "request_id": call.request_id,
            }
            return response
        if saved["fingerprint"] != call.fingerprint():
            raise StripeApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{call.idempotency_key}' "
                "if you meant to execute a different request.",
                error_type="idempotency_error",
            )
        headers = self._call_headers(call, saved["request_id"])
        headers.append(("Idempotent-Replayed", "true"))
        return Response(saved["status"], saved["body"].encode(), headers=headers)

    def _dispatch(self, call: CallContext) -> Response:
        headers = self._call_headers(call, call.request_id)
        try:
            handler, groups = self._api_handler(call)
            return json_response(200, handler(call, **groups), headers)
        except StripeApiError as error:
            return json_response(error.status, error.body(), headers)

    def _api_handler(self, call: CallContext) -> tuple[Callable[..., Any], dict]:
        found = _match(self._api_routes, call.method, call.path)
        if found is None:
            raise StripeApiError(
                404,
                f"Unrecognized request URL ({call.method}: {call.path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            )
        if call.stripe_account:
            self._check_stripe_account(call)
        return found

    def _check_stripe_account(self, call: CallContext) -> None:
        if call.stripe_account not in call.account.connected_accounts:
            raise StripeApiError(
                403,
                f"The provided key '{_mask_key(call.account.secret_key)}' does not have access "
                f"to account '{call.stripe_account}' (or that account does not exist).",
            )
        if call.path not in CONNECTED_ACCOUNT_PATHS:
            raise StripeApiError(
                400, f"The Stripe sandbox does not support Stripe-Account on {call.path}."
            )

    @staticmethod
    def _call_headers(call: CallContext, request_id: str) -> list[tuple[str, str]]:
        headers = [("Request-Id", request_id), ("Stripe-Version", API_VERSION)]
        if call.idempotency_key and call.method == "POST":
            headers.append(("Idempotency-Key", call.idempotency_key))
        return headers

    # Stripe endpoints, each run under the lock by _handle_api.

    def _api_account_retrieve(self, call: CallContext) -> dict[str, Any]:
        Params(call.params)
        if call.stripe_account:
            return self._objects[call.stripe_account]
        return _platform_account_object(call.account)

    def _api_balance_retrieve(self, call: CallContext) -> dict[str, Any]:
        Params(call.params)
        balances = self._balances.get(call.acting_account_id) or {"usd": 0}
        return {
            "object": "balance",
            "livemode": False,
            "available": [
                {"amount": amount, "currency": currency, "source_types": {"card": amount}}
                for currency, amount in sorted(balances.items())
            ],
            "pending": [
                {"amount": 0, "currency": currency, "source_types": {"card": 0}}
                for currency in sorted(balances)
            ],
        }

    def _api_payment_intent_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(
            call.params,
            (
                "amount",
                "currency",
                "metadata",
                "automatic_payment_methods",
                "description",
                "payment_method_types",
                "customer",
                "receipt_email",
                "statement_descriptor",
                "statement_descriptor_suffix",
                "transfer_group",
            ),
        )
        intent = self._store(call.account.id, _payment_intent_object(params))
        self._emit(call.account.id, "payment_intent.created", intent, request=call)
        return self._expanded(call, intent, params.expand)

    def _api_payment_intent_cancel(self, call: CallContext, object_id: str) -> dict[str, Any]:
        params = Params(call.params, ("cancellation_reason",))
        intent = self._owned(call.account.id, object_id, "payment_intent", param="intent")
        if intent["status"] not in CANCELABLE_STATUSES:
            raise StripeApiError(
                400,
                "You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                f"may be canceled: {', '.join(CANCELABLE_STATUSES)}.",
                code="payment_intent_unexpected_state",
            )
        intent["status"] = "canceled"
        intent["canceled_at"] = _now()
        intent["cancellation_reason"] = params.text(
            "cancellation_reason",
            choices=("duplicate", "fraudulent", "requested_by_customer", "abandoned"),
        )
        self._emit(call.account.id, "payment_intent.canceled", intent, request=call)
        return self._expanded(call, intent, params.expand)

    def _api_refund_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(
            call.params,
            ("payment_intent", "charge", "amount", "metadata", "reason", "instructions_email"),
        )
        charge = self._refundable_charge(call.account.id, params)
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = params.integer("amount") or remaining
        self._check_refund_amount(charge, amount, remaining)
        refund = self._store(
            call.account.id,
            {
                **_base("re", "refund"),
                "amount": amount,
                "currency": charge["currency"],
                "charge": charge["id"],
                "payment_intent": charge["payment_intent"],
                "reason": params.text(
                    "reason", choices=("duplicate", "fraudulent", "requested_by_customer")
                ),
                "status": "succeeded",
                "balance_transaction": new_id("txn"),
                "metadata": params.metadata(),
            },
        )
        self._apply_refund(charge, refund)
        self._emit(call.account.id, "charge.refunded", charge, request=call)
        self._emit(call.account.id, "refund.created", refund, request=call)
        return self._expanded(call, refund, params.expand)

    def _refundable_charge(self, account_id: str, params: Params) -> dict[str, Any]:
        intent_id = params.text("payment_intent")
        charge_id = params.text("charge")
        if intent_id:
            intent = self._owned(account_id, intent_id, "payment_intent", param="payment_intent")
            charge_id = intent["latest_charge"]
            if intent["status"] != "succeeded" or not charge_id:
                raise StripeApiError(
                    400,
                    f"This PaymentIntent ({intent_id}) does not have a successful charge to "
                    "refund.",
                    code="charge_not_refundable",
                    param="payment_intent",
                )
        if not charge_id:
            raise StripeApiError(
                400,
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
            )
        return self._owned(account_id, charge_id, "charge", param="charge")

    @staticmethod
    def _check_refund_amount(charge: dict[str, Any], amount: int, remaining: int) -> None:
        if charge["disputed"]:
            raise StripeApiError(
                400,
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                code="charge_disputed",
            )
        if remaining == 0:
            raise StripeApiError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        if amount > remaining:
            raise StripeApiError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({remaining})",
                code="amount_too_large",
                param="amount",
            )

    def _apply_refund(self, charge: dict[str, Any], refund: dict[str, Any]) -> None:
        charge["amount_refunded"] += refund["amount"]
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        charge["refunds"]["data"].insert(0, copy.deepcopy(refund))
        charge["refunds"]["total_count"] += 1
        self._credit(self._owners[charge["id"]], charge["currency"], -refund["amount"])

    def _api_connected_account_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(
            call.params,
            (
                "type",
                "controller",
                "country",
                "email",
                "capabilities",
                "business_type",
                "business_profile",
                "default_currency",
                "metadata",
            ),
        )
        connected = self._store(call.account.id, _connected_account_object(params))
        call.account.connected_accounts.append(connected["id"])
        return self._expanded(call, connected, params.expand)

    def _api_account_link_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(call.params, ("account", "refresh_url", "return_url", "type", "collect"))
        account_id = params.text("account", required=True) or ""
        params.text("type", required=True, choices=("account_onboarding", "account_update"))
        self._owned(call.account.id, account_id, "account", param="account")
        link = {
            "object": "account_link",
            "created": _now(),
            "expires_at": _now() + ONBOARDING_LINK_TTL_SECONDS,
            "url": f"{call.base_url}/_sandbox/onboarding/{account_id}",
        }
        self._onboarding[account_id] = {
            "return_url": params.text("return_url"),
            "refresh_url": params.text("refresh_url"),
            "expires_at": link["expires_at"],
        }
        return link

    def _api_transfer_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(
            call.params,
            (
                "amount",
                "currency",
                "destination",
                "transfer_group",
                "metadata",
                "description",
                "source_transaction",
            ),
        )
        amount = params.integer("amount", required=True) or 0
        currency = params.currency()
        destination = self._transfer_destination(call.account.id, params)
        available = self._balances.get(call.account.id, {}).get(currency, 0)
        if amount > available:
            raise StripeApiError(
                400,
                "You have insufficient available funds in your Stripe account. Try adding "
                "funds directly to your available balance by creating Charges.",
                code="balance_insufficient",
            )
        transfer = _base("tr", "transfer")
        transfer.update(
            amount=amount,
            amount_reversed=0,
            currency=currency,
            destination=destination["id"],
            destination_payment=new_id("py"),
            transfer_group=params.text("transfer_group"),
            source_transaction=params.text("source_transaction"),
            description=params.text("description"),
            balance_transaction=new_id("txn"),
            reversed=False,
            reversals=_empty_list(f"/v1/transfers/{transfer['id']}/reversals"),
            metadata=params.metadata(),
        )
        self._store(call.account.id, transfer)
        self._credit(call.account.id, currency, -amount)
        self._credit(destination["id"], currency, amount)
        self._emit(call.account.id, "transfer.created", transfer, request=call)
        return self._expanded(call, transfer, params.expand)

    def _transfer_destination(self, account_id: str, params: Params) -> dict[str, Any]:
        destination_id = params.text("destination", required=True) or ""
        if destination_id not in self._accounts[account_id].connected_accounts:
            raise StripeApiError(
                400,
                f"No such destination: '{destination_id}'",
                code="resource_missing",
                param="destination",
            )
        destination = self._objects[destination_id]
        if not destination["payouts_enabled"]:
            raise StripeApiError(
                400,
                "Your destination account needs to have at least one of the following "
                "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                code="insufficient_capabilities_for_transfer",
                param="destination",
            )
        return destination

    def _api_transfer_reverse(self, call: CallContext, object_id: str) -> dict[str, Any]:
        params = Params(call.params, ("amount", "metadata", "description"))
        transfer = self._owned(call.account.id, object_id, "transfer")
        remaining = transfer["amount"] - transfer["amount_reversed"]
        amount = params.integer("amount") or remaining
        if remaining == 0 or amount > remaining:
            raise StripeApiError(
                400,
                f"Reversal amount ({amount}) is greater than the transfer's unreversed amount "
                f"({remaining}).",
                code="amount_too_large",
                param="amount",
            )
        reversal = {
            **_base("trr", "transfer_reversal"),
            "amount": amount,
            "currency": transfer["currency"],
            "transfer": transfer["id"],
            "balance_transaction": new_id("txn"),
            "destination_payment_refund": new_id("pyr"),
            "metadata": params.metadata(),
        }
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        transfer["reversals"]["data"].insert(0, copy.deepcopy(reversal))
        transfer["reversals"]["total_count"] += 1
        self._credit(call.account.id, transfer["currency"], amount)
        self._credit(transfer["destination"], transfer["currency"], -amount)
        self._emit(call.account.id, "transfer.reversed", transfer, request=call)
        return reversal

    def _api_retrieve(self, call: CallContext, collection: str, object_id: str) -> dict:
        params = Params(call.params)
        found = self._owned(call.account.id, object_id, self._collection_type(call, collection))
        return self._expanded(call, found, params.expand)

    def _api_list(self, call: CallContext, collection: str) -> dict[str, Any]:
        object_type = self._collection_type(call, collection)
        filters = LIST_FILTERS[collection]
        params = Params(call.params, ("limit", "starting_after", *filters))
        limit = min(params.integer("limit") or 10, 100)
        items = [
            obj
            for obj in reversed(self._objects.values())
            if obj["object"] == object_type
            and self._owners[obj["id"]] == call.account.id
            and all(obj.get(name) == params.data[name] for name in filters if name in params.data)
        ]
        after = params.text("starting_after")
        if after:
            ids = [obj["id"] for obj in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        page = [self._expanded(call, obj, _item_fields(params.expand)) for obj in items[:limit]]
        return {
            "object": "list",
            "data": page,
            "has_more": len(items) > limit,
            "url": f"/v1/{collection}",
        }

    @staticmethod
    def _collection_type(call: CallContext, collection: str) -> str:
        if collection not in COLLECTIONS:
            raise StripeApiError(404, f"Unrecognized request URL ({call.method}: {call.path}).")
        return COLLECTIONS[collection]

    def _expanded(
        self, call: CallContext, obj: dict[str, Any], fields: list[str]
    ) -> dict[str, Any]:
        """Stripe's `expand[]` for top-level ids of the caller's own objects."""
        result = copy.deepcopy(obj)
        for name in fields:
            value = result.get(name)
            if isinstance(value, str) and self._owners.get(value) == call.account.id:
                result[name] = copy.deepcopy(self._objects[value])
        return result

    # -- Billing: Callrix's own account bills its licensees ------------------------------------

    def _billing_api_routes(self) -> list[Route]:
        item = r"(?P<object_id>[A-Za-z0-9_]+)"
        return [
            _route("POST", r"/v1/customers", self._api_customer_create),
            _route("POST", r"/v1/prices", self._api_price_create),
            _route("GET", r"/v1/prices", self._api_price_list),
            _route("POST", r"/v1/subscriptions", self._api_subscription_create),
            _route("DELETE", rf"/v1/subscriptions/{item}", self._api_subscription_cancel),
            _route("POST", r"/v1/invoiceitems", self._api_invoice_item_create),
        ]

    def _billing_objects(self, account_id: str, object_type: str) -> list[dict[str, Any]]:
        return [
            obj
            for obj in self._objects.values()
            if obj["object"] == object_type and self._owners[obj["id"]] == account_id
        ]

    def _api_customer_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(
            call.params,
            (
                "name",
                "email",
                "phone",
                "description",
                "address",
                "metadata",
                "preferred_locales",
                "tax_exempt",
            ),
        )
        customer = self._store(call.account.id, _customer_object(params))
        self._emit(call.account.id, "customer.created", customer, request=call)
        return self._expanded(call, customer, params.expand)

    def _api_price_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(
            call.params,
            (
                "currency",
                "unit_amount",
                "recurring",
                "product",
                "product_data",
                "lookup_key",
                "transfer_lookup_key",
                "nickname",
                "metadata",
                "tax_behavior",
            ),
        )
        price = _price_object(params)
        if price["product"]:
            self._owned(call.account.id, price["product"], "product", param="product")
        else:
            price["product"] = self._product_from(call, params.mapping("product_data"))["id"]
        self._claim_lookup_key(
            call.account.id, price, transfer=bool(params.flag("transfer_lookup_key"))
        )
        self._store(call.account.id, price)
        self._emit(call.account.id, "price.created", price, request=call)
        return self._expanded(call, price, params.expand)

    def _product_from(self, call: CallContext, data: dict[str, Any]) -> dict[str, Any]:
        if not data.get("name"):
            raise StripeApiError(
                400,
                "Missing required param: product_data[name].",
                code="parameter_missing",
                param="product_data[name]",
            )
        product = {
            **_base("prod", "product"),
            "name": str(data["name"]),
            "active": True,
            "description": None,
            "metadata": {k: str(v) for k, v in (data.get("metadata") or {}).items()},
        }
        self._store(call.account.id, product)
        self._emit(call.account.id, "product.created", product, request=call)
        return product

    def _claim_lookup_key(self, account_id: str, price: dict[str, Any], *, transfer: bool) -> None:
        key = price["lookup_key"]
        if not key:
            return
        for other in self._billing_objects(account_id, "price"):
            if other["lookup_key"] != key:
                continue
            if not transfer:
                raise StripeApiError(
                    400,
                    f"A price (`{other['id']}`) already uses that lookup key.",
                    param="lookup_key",
                )
            other["lookup_key"] = None

    def _api_price_list(self, call: CallContext) -> dict[str, Any]:
        params = Params(call.params, ("lookup_keys", "active", "product", "limit", "currency"))
        raw_keys = params.data.get("lookup_keys") or []
        keys = [raw_keys] if isinstance(raw_keys, str) else list(raw_keys)
        active = params.flag("active")
        limit = min(params.integer("limit") or 10, 100)
        prices = [
            price
            for price in reversed(self._billing_objects(call.account.id, "price"))
            if (not keys or price["lookup_key"] in keys)
            and active in (None, price["active"])
            and params.data.get("product") in (None, price["product"])
            and params.data.get("currency") in (None, price["currency"])
        ]
        return {
            "object": "list",
            "data": [
                self._expanded(call, price, _item_fields(params.expand)) for price in prices[:limit]
            ],
            "has_more": len(prices) > limit,
            "url": "/v1/prices",
        }

    def _api_subscription_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(
            call.params,
            (
                "customer",
                "items",
                "trial_period_days",
                "payment_behavior",
                "payment_settings",
                "collection_method",
                "metadata",
                "automatic_tax",
                "description",
                "default_payment_method",
                "off_session",
                "proration_behavior",
            ),
        )
        account_id = call.account.id
        customer_id = params.text("customer", required=True) or ""
        customer = self._owned(account_id, customer_id, "customer", param="customer")
        price = self._subscription_price(account_id, params.data.get("items"))
        self._check_customer_currency(customer, price["currency"])
        trial_days = params.integer("trial_period_days", minimum=0) or 0
        params.text(
            "payment_behavior",
            choices=(
                "allow_incomplete",
                "default_incomplete",
                "error_if_incomplete",
                "pending_if_incomplete",
            ),
        )
        now = _now()
        period_end = now + trial_days * 86400 if trial_days else _add_months(now, 1)
        subscription = {
            **_base("sub", "subscription"),
            "customer": customer["id"],
            "status": "trialing" if trial_days else "incomplete",
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": new_id("si"),
                        "object": "subscription_item",
                        "price": copy.deepcopy(price),
                        "quantity": 1,
                        "current_period_start": now,
                        "current_period_end": period_end,
                    }
                ],
                "has_more": False,
                "url": "/v1/subscription_items",
            },
            "latest_invoice": None,
            "trial_start": now if trial_days else None,
            "trial_end": period_end if trial_days else None,
            "start_date": now,
            "billing_cycle_anchor": period_end if trial_days else now,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "ended_at": None,
            "collection_method": params.text(
                "collection_method", choices=("charge_automatically", "send_invoice")
            )
            or "charge_automatically",
            "automatic_tax": {
                "enabled": str(params.mapping("automatic_tax").get("enabled")).lower() == "true"
            },
            "default_payment_method": params.text("default_payment_method"),
            "description": params.text("description"),
            "metadata": params.metadata(),
        }
        subscription["items"]["data"][0]["subscription"] = subscription["id"]
        self._store(account_id, subscription)
        self._emit(account_id, "customer.subscription.created", subscription, request=call)
        self._invoice_issue(
            account_id,
            subscription,
            amount=0 if trial_days else price["unit_amount"],
            billing_reason="subscription_create",
            period=(now, now),
            hosted_base=f"{call.base_url}/_sandbox/invoices",
            request=call,
        )
        return self._expanded(call, subscription, params.expand)

    def _subscription_price(self, account_id: str, items: Any) -> dict[str, Any]:
        if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
            raise StripeApiError(
                400, "The Stripe sandbox takes subscriptions of exactly one item.", param="items"
            )
        price_id = str(items[0].get("price") or "")
        price = self._owned(account_id, price_id, "price", param="items[0][price]")
        if price["type"] != "recurring":
            raise StripeApiError(
                400,
                "The price specified is set to `type=one_time` but this field only accepts "
                "prices with `type=recurring`.",
                param="items[0][price]",
            )
        return price

    @staticmethod
    def _check_customer_currency(customer: dict[str, Any], currency: str) -> None:
        if customer["currency"] and customer["currency"] != currency:
            raise StripeApiError(
                400,
                "You cannot combine currencies on a single customer. This customer has had a "
                f"subscription or payment in {customer['currency']}, but you are trying to "
                f"pay in {currency}.",
                param="currency",
            )

    def _invoice_issue(
        self,
        account_id: str,
        subscription: dict[str, Any],
        *,
        amount: int,
        billing_reason: str,
        period: tuple[int, int],
        hosted_base: str,
        request: CallContext | None = None,
    ) -> dict[str, Any]:
        """Draft, finalize and (at zero) settle one subscription invoice, taking in the
        customer's pending invoice items, with Stripe's events for each step."""
        customer = self._objects[subscription["customer"]]
        pending = [
            item
            for item in self._billing_objects(account_id, "invoiceitem")
            if item["customer"] == customer["id"]
            and item["invoice"] is None
            and item["subscription"] in (None, subscription["id"])
        ]
        lines = [_subscription_line(subscription, amount)] + [
            _invoice_item_line(item) for item in pending
        ]
        invoice = _invoice_object(
            customer, subscription, lines, billing_reason=billing_reason, period=period
        )
        for item in pending:
            item["invoice"] = invoice["id"]
        customer["currency"] = customer["currency"] or invoice["currency"]
        self._store(account_id, invoice)
        subscription["latest_invoice"] = invoice["id"]
        self._emit(account_id, "invoice.created", invoice, request=request)
        invoice.update(
            status="open",
            number=f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}",
            hosted_invoice_url=f"{hosted_base}/{invoice['id']}",
        )
        customer["next_invoice_sequence"] += 1
        invoice["status_transitions"]["finalized_at"] = _now()
        if invoice["amount_due"] > 0:
            invoice["confirmation_secret"] = {
                "client_secret": f"pi_{_token(24)}_secret_{_token(25)}",
                "type": "payment_intent",
            }
        self._emit(account_id, "invoice.finalized", invoice, request=request)
        if invoice["amount_due"] == 0:
            self._invoice_settle(account_id, invoice, request=request)
        return invoice

    def _invoice_settle(
        self, account_id: str, invoice: dict[str, Any], request: CallContext | None = None
    ) -> None:
        paid = invoice["amount_due"]
        invoice.update(
            status="paid",
            amount_paid=paid,
            amount_remaining=0,
            attempted=paid > 0 or invoice["attempted"],
            attempt_count=invoice["attempt_count"] + (1 if paid else 0),
            next_payment_attempt=None,
        )
        invoice["status_transitions"]["paid_at"] = _now()
        if paid:
            self._credit(account_id, invoice["currency"], paid)
        self._emit(account_id, "invoice.paid", invoice, request=request)
        self._emit(account_id, "invoice.payment_succeeded", invoice, request=request)
        subscription = self._invoice_subscription(invoice)
        if subscription and subscription["status"] in SUBSCRIPTION_OWING_STATUSES:
            self._subscription_status(account_id, subscription, "active", request=request)

    def _invoice_subscription(self, invoice: dict[str, Any]) -> dict[str, Any] | None:
        details = (invoice.get("parent") or {}).get("subscription_details") or {}
        return self._objects.get(details.get("subscription") or "")

    def _subscription_status(
        self,
        account_id: str,
        subscription: dict[str, Any],
        status: str,
        request: CallContext | None = None,
    ) -> None:
        previous = {"status": subscription["status"]}
        subscription["status"] = status
        self._emit(
            account_id,
            "customer.subscription.updated",
            subscription,
            request=request,
            previous=previous,
        )

    @staticmethod
    def _check_invoice_open(invoice: dict[str, Any]) -> None:
        if invoice["status"] != "open":
            raise StripeApiError(
                400,
                f"Invoice {invoice['id']} is {invoice['status']}; only an open invoice can be "
                "paid.",
                code="invoice_not_open",
            )

    def _api_subscription_cancel(self, call: CallContext, object_id: str) -> dict[str, Any]:
        params = Params(call.params, ("invoice_now", "prorate", "cancellation_details"))
        subscription = self._owned(call.account.id, object_id, "subscription")
        if subscription["status"] in SUBSCRIPTION_ENDED_STATUSES:
            raise StripeApiError(
                400,
                "A canceled subscription can only update its cancellation_details and metadata.",
            )
        now = _now()
        subscription.update(
            status="canceled",
            canceled_at=now,
            ended_at=now,
            cancellation_details={"reason": "cancellation_requested"},
        )
        self._emit(call.account.id, "customer.subscription.deleted", subscription, request=call)
        return self._expanded(call, subscription, params.expand)

    def _api_invoice_item_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(
            call.params,
            (
                "customer",
                "amount",
                "currency",
                "description",
                "metadata",
                "period",
                "subscription",
                "discountable",
                "tax_behavior",
            ),
        )
        customer_id = params.text("customer", required=True) or ""
        customer = self._owned(call.account.id, customer_id, "customer", param="customer")
        # Negative amounts are credits, as on Stripe.
        amount = params.integer("amount", required=True, minimum=-(10**12)) or 0
        currency = params.currency()
        self._check_customer_currency(customer, currency)
        subscription_id = params.text("subscription")
        if subscription_id:
            self._owned(call.account.id, subscription_id, "subscription", param="subscription")
        period = params.mapping("period")
        now = _now()
        invoice_item = {
            **_base("ii", "invoiceitem"),
            "customer": customer["id"],
            "amount": amount,
            "currency": currency,
            "description": params.text("description"),
            "metadata": params.metadata(),
            "period": {
                "start": _timestamp(period.get("start"), "period[start]", now),
                "end": _timestamp(period.get("end"), "period[end]", now),
            },
            "subscription": subscription_id,
            "invoice": None,
            "date": now,
            "proration": False,
            "quantity": 1,
            "discountable": params.flag("discountable") is not False,
        }
        self._store(call.account.id, invoice_item)
        self._emit(call.account.id, "invoiceitem.created", invoice_item, request=call)
        return self._expanded(call, invoice_item, params.expand)

    # Billing: the customer's and Stripe's part.

    def pay_invoice(self, invoice_id: str) -> dict[str, Any]:
        """The customer pays an open invoice: `invoice.paid`, and an owing subscription is
        `active` again."""
        with self._transaction():
            owner, invoice = self._find(invoice_id, "invoice")
            self._check_invoice_open(invoice)
            self._invoice_settle(owner, invoice)
            return copy.deepcopy(invoice)

    def fail_invoice(self, invoice_id: str) -> dict[str, Any]:
        """A payment attempt on an open invoice is declined: `invoice.payment_failed`, and an
        active subscription becomes `past_due` (a first invoice's stays `incomplete`)."""
        with self._transaction():
            owner, invoice = self._find(invoice_id, "invoice")
            self._check_invoice_open(invoice)
            invoice.update(
                attempted=True,
                attempt_count=invoice["attempt_count"] + 1,
                next_payment_attempt=_now() + PAYMENT_RETRY_SECONDS,
            )
            self._emit(owner, "invoice.payment_failed", invoice)
            subscription = self._invoice_subscription(invoice)
            if subscription and subscription["status"] in ("active", "trialing"):
                self._subscription_status(owner, subscription, "past_due")
            return copy.deepcopy(invoice)

    def advance_subscription(self, subscription_id: str, *, outcome: str = "open") -> dict:
        """The current period (or trial) ends: the next one starts and its invoice is issued
        with the customer's pending invoice items, then paid (`pay`), declined (`fail`) or
        left `open`. Returns the new invoice."""
        if outcome not in ("open", "pay", "fail"):
            raise StripeApiError(400, "Invalid outcome: must be one of open, pay, fail")
        with self._transaction():
            owner, subscription = self._find(subscription_id, "subscription")
            if subscription["status"] in (*SUBSCRIPTION_ENDED_STATUSES, "incomplete"):
                raise StripeApiError(
                    400, f"Subscription {subscription_id} is {subscription['status']}."
                )
            item = subscription["items"]["data"][0]
            started, ends = item["current_period_start"], item["current_period_end"]
            item.update(current_period_start=ends, current_period_end=_add_months(ends, 1))
            if subscription["status"] == "trialing":
                self._subscription_status(owner, subscription, "active")
            previous = self._objects[subscription["latest_invoice"]]
            invoice = self._invoice_issue(
                owner,
                subscription,
                amount=item["price"]["unit_amount"],
                billing_reason="subscription_cycle",
                period=(started, ends),
                hosted_base=previous["hosted_invoice_url"].rsplit("/", 1)[0],
            )
            invoice_id, still_open = invoice["id"], invoice["status"] == "open"
        if still_open and outcome == "pay":
            return self.pay_invoice(invoice_id)
        if still_open and outcome == "fail":
            return self.fail_invoice(invoice_id)
        with self._lock:
            return copy.deepcopy(self._objects[invoice_id])

    def expire_subscription(self, subscription_id: str) -> dict[str, Any]:
        """A first invoice left unpaid for 23 hours: the subscription ends as
        `incomplete_expired` and its invoice is voided."""
        with self._transaction():
            owner, subscription = self._find(subscription_id, "subscription")
            if subscription["status"] != "incomplete":
                raise StripeApiError(
                    400, f"Subscription {subscription_id} is {subscription['status']}."
                )
            invoice = self._objects[subscription["latest_invoice"]]
            if invoice["status"] == "open":
                invoice["status"] = "void"
                invoice["status_transitions"]["voided_at"] = _now()
                self._emit(owner, "invoice.voided", invoice)
            subscription["ended_at"] = _now()
            self._subscription_status(owner, subscription, "incomplete_expired")
            return copy.deepcopy(subscription)

    def _billing_control_routes(self) -> list[Route]:
        item = r"(?P<object_id>[A-Za-z0-9_]+)"
        prefix = "/_sandbox"
        return [
            _route("GET", rf"{prefix}/invoices/{item}", self._ctl_invoice_page),
            _route("POST", rf"{prefix}/invoices/{item}/pay", self._ctl_invoice_pay),
            _route("POST", rf"{prefix}/invoices/{item}/fail", self._ctl_invoice_fail),
            _route("POST", rf"{prefix}/subscriptions/{item}/advance", self._ctl_advance),
            _route("POST", rf"{prefix}/subscriptions/{item}/expire", self._ctl_expire),
        ]

    def _ctl_invoice_page(self, request: Request, object_id: str) -> Response:
        with self._lock:
            _, invoice = self._find(object_id, "invoice")
            page = _invoice_page(invoice)
        return Response(200, page.encode(), content_type="text/html; charset=utf-8")

    def _ctl_invoice_pay(self, request: Request, object_id: str) -> Response:
        return self._ctl_invoice_outcome(request, object_id, self.pay_invoice)

    def _ctl_invoice_fail(self, request: Request, object_id: str) -> Response:
        return self._ctl_invoice_outcome(request, object_id, self.fail_invoice)

    @staticmethod
    def _ctl_invoice_outcome(
        request: Request, object_id: str, play: Callable[[str], dict[str, Any]]
    ) -> Response:
        invoice = play(object_id)
        # The HTML form goes back to the hosted invoice page, as Stripe's hosted page does.
        if "redirect=1" in request.query:
            location = f"/_sandbox/invoices/{object_id}"
            return Response(303, b"", content_type="text/plain", headers=[("Location", location)])
        return json_response(200, invoice)

    def _ctl_advance(self, request: Request, object_id: str) -> Response:
        outcome = str(request.json().get("outcome") or "open")
        return json_response(200, self.advance_subscription(object_id, outcome=outcome))

    def _ctl_expire(self, request: Request, object_id: str) -> Response:
        return json_response(200, self.expire_subscription(object_id))

    # -- Sandbox control: Python methods -------------------------------------------------------

    def create_account(
        self,
        webhook_url: str | None = None,
        webhook_host: str | None = None,
        display_name: str = "",
        email: str = "",
    ) -> dict[str, Any]:
        """A new platform account; returns `account_id`, `secret_key`, `publishable_key`,
        `webhook_secret` (and the webhook settings)."""
        account_id = new_id("acct", 16)
        account = SandboxAccount(
            id=account_id,
            secret_key=new_id("sk_test_sandbox"),
            publishable_key=new_id("pk_test_sandbox"),
            webhook_secret=new_id("whsec", 32),
            webhook_url=webhook_url,
            webhook_host=webhook_host,
            display_name=display_name,
            email=email or f"{account_id.lower()}@sandbox.invalid",
        )
        with self._transaction():
            self._accounts[account_id] = account
            return account.credentials()

    def update_account(
        self, account_id: str, *, webhook_url: str | None = None, webhook_host: str | None = None
    ) -> dict[str, Any]:
        """Point an account's webhooks elsewhere (a demo restarted on another port)."""
        with self._transaction():
            account = self._platform(account_id)
            account.webhook_url = webhook_url
            account.webhook_host = webhook_host
            return account.credentials()

    def succeed_payment_intent(self, payment_intent_id: str) -> dict[str, Any]:
        """The customer's card payment succeeds: a charge, the funds, two events."""
        with self._transaction():
            owner, intent = self._find(payment_intent_id, "payment_intent")
            self._check_payable(intent)
            intent["payment_method"] = new_id("pm")
            charge = self._store(owner, _charge_object(intent))
            intent.update(
                status="succeeded",
                amount_received=intent["amount"],
                latest_charge=charge["id"],
                last_payment_error=None,
            )
            self._credit(owner, intent["currency"], intent["amount"])
            self._emit(owner, "payment_intent.succeeded", intent)
            self._emit(owner, "charge.succeeded", charge)
            return copy.deepcopy(intent)

    def fail_payment_intent(
        self,
        payment_intent_id: str,
        *,
        decline_code: str = "generic_decline",
        message: str = "Your card was declined.",
    ) -> dict[str, Any]:
        """The customer's card is declined; the intent waits for another payment method."""
        with self._transaction():
            owner, intent = self._find(payment_intent_id, "payment_intent")
            self._check_payable(intent)
            intent.update(
                status="requires_payment_method",
                last_payment_error={
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": decline_code,
                    "message": message,
                },
            )
            self._emit(owner, "payment_intent.payment_failed", intent)
            return copy.deepcopy(intent)

    def dispute_charge(
        self, charge_id: str, *, amount: int | None = None, reason: str = "fraudulent"
    ) -> dict[str, Any]:
        """The cardholder disputes the charge; Stripe withdraws the amount at once."""
        with self._transaction():
            owner, charge = self._find(charge_id, "charge")
            disputable = charge["amount"] - charge["amount_refunded"]
            if charge["disputed"] or disputable == 0:
                raise StripeApiError(400, f"Charge {charge_id} cannot be disputed.")
            dispute = self._store(owner, _dispute_object(charge, amount or disputable, reason))
            charge["disputed"] = True
            self._credit(owner, charge["currency"], -dispute["amount"])
            self._emit(owner, "charge.dispute.created", dispute)
            self._emit(owner, "charge.dispute.funds_withdrawn", dispute)
            return copy.deepcopy(dispute)

    def close_dispute(self, dispute_id: str, status: str) -> dict[str, Any]:
        """The card network decides: `won` gives the funds back, `lost` keeps them withdrawn."""
        if status not in ("won", "lost"):
            raise StripeApiError(400, "Invalid status: must be one of won, lost", param="status")
        with self._transaction():
            owner, dispute = self._find(dispute_id, "dispute")
            if dispute["status"] not in OPEN_DISPUTE_STATUSES:
                raise StripeApiError(400, f"Dispute {dispute_id} is already closed.")
            dispute["status"] = status
            self._emit(owner, "charge.dispute.closed", dispute)
            if status == "won":
                self._credit(owner, dispute["currency"], dispute["amount"])
                self._emit(owner, "charge.dispute.funds_reinstated", dispute)
            return copy.deepcopy(dispute)

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """The advisor finishes Connect onboarding: payouts on, requirements met, and
        `account.updated` to the platform (Connect events carry `account`)."""
        with self._transaction():
            owner, connected = self._find(account_id, "account")
            if connected["payouts_enabled"]:
                return copy.deepcopy(connected)
            previous = {
                key: copy.deepcopy(connected[key])
                for key in (
                    "charges_enabled",
                    "payouts_enabled",
                    "details_submitted",
                    "capabilities",
                    "requirements",
                )
            }
            connected.update(
                charges_enabled=True,
                payouts_enabled=True,
                details_submitted=True,
                capabilities={name: "active" for name in connected["capabilities"]},
                requirements=_requirements(due=[]),
            )
            self._emit(
                owner, "account.updated", connected, previous=previous, connected_account=account_id
            )
            return copy.deepcopy(connected)

    def events(self, account_id: str, event_type: str | None = None) -> list[dict[str, Any]]:
        """The events generated for a platform account, newest first."""
        with self._lock:
            self._platform(account_id)
            return [
                copy.deepcopy(obj)
                for obj in reversed(self._objects.values())
                if obj["object"] == "event"
                and self._owners[obj["id"]] == account_id
                and event_type in (None, obj["type"])
            ]

    def deliveries(self, event_id: str) -> list[dict[str, Any]]:
        """Every attempt to deliver an event: url, status (None when unreachable), error."""
        with self._lock:
            return copy.deepcopy(self._deliveries.get(event_id, []))

    def event_payload(self, event_id: str) -> bytes:
        """The exact bytes a webhook for this event carries."""
        with self._lock:
            return self._payload(event_id)

    @staticmethod
    def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
        return sign(payload, secret, timestamp)

    def signed_event(self, event_id: str) -> tuple[bytes, str]:
        """The payload and `Stripe-Signature` value for posting an event by hand."""
        with self._lock:
            payload = self._payload(event_id)
            secret = self._accounts[self._owners[event_id]].webhook_secret
        return payload, sign(payload, secret)

    def resend_event(self, event_id: str) -> dict[str, Any]:
        """Deliver an event again, now (real Stripe retries, so receivers see duplicates)."""
        with self._lock:
            owner, _ = self._find(event_id, "event")
            if not self._accounts[owner].webhook_url:
                raise StripeApiError(400, f"Account {owner} has no webhook endpoint.")
        return self._deliver(event_id)

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """Block until the background sender is idle; False if it did not get there in time."""
        return self._deliveries_out.wait_idle(timeout)

    # -- Sandbox control: HTTP -----------------------------------------------------------------

    def _build_control_routes(self) -> list[Route]:
        item = r"(?P<object_id>[A-Za-z0-9_]+)"
        prefix = "/_sandbox"
        return [
            _route("POST", rf"{prefix}/accounts", self._ctl_account_create),
            _route("POST", rf"{prefix}/accounts/{item}", self._ctl_account_update),
            _route("POST", rf"{prefix}/payment_intents/{item}/succeed", self._ctl_succeed),
            _route("POST", rf"{prefix}/payment_intents/{item}/fail", self._ctl_fail),
            _route("POST", rf"{prefix}/charges/{item}/dispute", self._ctl_dispute),
            _route("POST", rf"{prefix}/disputes/{item}/close", self._ctl_dispute_close),
            _route("GET", rf"{prefix}/onboarding/{item}", self._ctl_onboarding_page),
            _route("POST", rf"{prefix}/onboarding/{item}/complete", self._ctl_onboarding_done),
            _route("GET", rf"{prefix}/events", self._ctl_events),
            _route("POST", rf"{prefix}/events/{item}/resend", self._ctl_event_resend),
            *self._billing_control_routes(),
        ]

    def _handle_control(self, request: Request) -> Response:
        found = _match(self._control_routes, request.method, request.path.rstrip("/"))
        if found is None:
            raise StripeApiError(
                404, f"Unrecognized request URL ({request.method}: {request.path})."
            )
        handler, groups = found
        return handler(request, **groups)

    def _ctl_account_create(self, request: Request) -> Response:
        data = request.json()
        credentials = self.create_account(
            webhook_url=data.get("webhook_url"),
            webhook_host=data.get("webhook_host"),
            display_name=data.get("display_name") or "",
            email=data.get("email") or "",
        )
        return json_response(200, credentials)

    def _ctl_account_update(self, request: Request, object_id: str) -> Response:
        data = request.json()
        return json_response(
            200,
            self.update_account(
                object_id,
                webhook_url=data.get("webhook_url"),
                webhook_host=data.get("webhook_host"),
            ),
        )

    def _ctl_succeed(self, request: Request, object_id: str) -> Response:
        return json_response(200, self.succeed_payment_intent(object_id))

    def _ctl_fail(self, request: Request, object_id: str) -> Response:
        data = request.json()
        options = {key: data[key] for key in ("decline_code", "message") if data.get(key)}
        return json_response(200, self.fail_payment_intent(object_id, **options))

    def _ctl_dispute(self, request: Request, object_id: str) -> Response:
        params = Params(request.json(), ("amount", "reason"))
        dispute = self.dispute_charge(
            object_id,
            amount=params.integer("amount"),
            reason=params.text("reason") or "fraudulent",
        )
        return json_response(200, dispute)

    def _ctl_dispute_close(self, request: Request, object_id: str) -> Response:
        return json_response(200, self.close_dispute(object_id, request.json().get("status", "")))

    def _ctl_onboarding_page(self, request: Request, object_id: str) -> Response:
        with self._lock:
            _, connected = self._find(object_id, "account")
        return Response(
            200, _onboarding_page(connected).encode(), content_type="text/html; charset=utf-8"
        )

    def _ctl_onboarding_done(self, request: Request, object_id: str) -> Response:
        connected = self.complete_onboarding(object_id)
        with self._lock:
            return_url = self._onboarding.get(object_id, {}).get("return_url")
        # The HTML form sends the browser back to the product, as Stripe's hosted flow does.
        if "redirect=1" in request.query and return_url:
            return Response(303, b"", content_type="text/plain", headers=[("Location", return_url)])
        return json_response(200, connected)

    def _ctl_events(self, request: Request) -> Response:
        query = dict(parse_qsl(request.query))
        if not query.get("account"):
            raise StripeApiError(400, "Missing required param: account.", param="account")
        events = self.events(query["account"], query.get("type"))
        deliveries = {event["id"]: self.deliveries(event["id"]) for event in events}
        return json_response(
            200,
            {
                "object": "list",
                "data": events,
                "has_more": False,
                "url": "/_sandbox/events",
                "deliveries": deliveries,
            },
        )

    def _ctl_event_resend(self, request: Request, object_id: str) -> Response:
        return json_response(200, self.resend_event(object_id))

    # -- State ---------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """Run under the lock, persist, then hand new events to the webhook sender."""
        with self._lock:
            yield
            self._save()
        self._send_outbox()

    def _store(self, account_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        self._objects[obj["id"]] = obj
        self._owners[obj["id"]] = account_id
        return obj

    def _owned(
        self, account_id: str, object_id: str, object_type: str, param: str = "id"
    ) -> dict[str, Any]:
        """One of the caller's own objects; another account's is as missing as a made-up id."""
        obj = self._objects.get(object_id)
        if obj is None or obj["object"] != object_type or self._owners[object_id] != account_id:
            raise _missing(object_type, object_id, param)
        return obj

    def _find(self, object_id: str, object_type: str) -> tuple[str, dict[str, Any]]:
        obj = self._objects.get(object_id)
        if obj is None or obj["object"] != object_type:
            raise _missing(object_type, object_id)
        return self._owners[object_id], obj

    def _platform(self, account_id: str) -> SandboxAccount:
        if account_id not in self._accounts:
            raise _missing("account", account_id, "account")
        return self._accounts[account_id]

    def _credit(self, account_id: str, currency: str, amount: int) -> None:
        balances = self._balances.setdefault(account_id, {})
        balances[currency] = balances.get(currency, 0) + amount

    @staticmethod
    def _check_payable(intent: dict[str, Any]) -> None:
        if intent["status"] not in PAYABLE_STATUSES:
            raise StripeApiError(
                400,
                f"This PaymentIntent's status is {intent['status']}; it cannot be paid.",
                code="payment_intent_unexpected_state",
            )

    def _emit(
        self,
        account_id: str,
        event_type: str,
        obj: dict[str, Any],
        *,
        request: CallContext | None = None,
        previous: dict[str, Any] | None = None,
        connected_account: str | None = None,
    ) -> None:
        account = self._accounts[account_id]
        event = _event_object(
            event_type,
            obj,
            request=request,
            previous=previous,
            connected_account=connected_account,
            pending_webhooks=1 if account.webhook_url else 0,
        )
        self._store(account_id, event)
        if account.webhook_url:
            self._outbox.append(event["id"])

    def _payload(self, event_id: str) -> bytes:
        _, event = self._find(event_id, "event")
        return json.dumps(event, indent=2).encode()

    def _save(self) -> None:
        if self._state_file is None:
            return
        state = {
            "accounts": [asdict(account) for account in self._accounts.values()],
            "objects": self._objects,
            "owners": self._owners,
            "balances": self._balances,
            "onboarding": self._onboarding,
            "idempotency": self._idempotency,
            "deliveries": self._deliveries,
        }
        partial = self._state_file.with_suffix(self._state_file.suffix + ".partial")
        partial.write_text(json.dumps(state))
        os.replace(partial, self._state_file)

    def _load(self) -> None:
        if self._state_file is None or not self._state_file.exists():
            return
        state = json.loads(self._state_file.read_text())
        self._accounts = {a["id"]: SandboxAccount(**a) for a in state["accounts"]}
        self._objects = state["objects"]
        self._owners = state["owners"]
        self._balances = state["balances"]
        self._onboarding = state["onboarding"]
        self._idempotency = state["idempotency"]
        self._deliveries = state["deliveries"]

    # -- Webhook delivery ----------------------------------------------------------------------

    def _send_outbox(self) -> None:
        with self._lock:
            event_ids, self._outbox = self._outbox, []
        for event_id in event_ids:
            if self.deliver_synchronously:
                self._deliver(event_id)
            else:
                self._deliveries_out.submit(event_id)

    def _deliver(self, event_id: str) -> dict[str, Any]:
        with self._lock:
            account = self._accounts[self._owners[event_id]]
            payload = self._payload(event_id)
        if not account.webhook_url:  # removed since the event was queued
            return {"url": None, "attempted_at": _now(), "status": None, "error": "no endpoint"}
        attempt = post_webhook(
            account.webhook_url,
            payload,
            sign(payload, account.webhook_secret),
            host=account.webhook_host,
        )
        with self._lock:
            self._deliveries.setdefault(event_id, []).append(attempt)
            if attempt["status"] is not None and 200 <= attempt["status"] < 300:
                self._objects[event_id]["pending_webhooks"] = 0
            self._save()
        return attempt


def _item_fields(expand: list[str]) -> list[str]:
    return [name.removeprefix("data.") for name in expand if name.startswith("data.")]


def _onboarding_page(connected: dict[str, Any]) -> str:
    account_id = html.escape(connected["id"])
    email = html.escape(connected.get("email") or "")
    state = "complete" if connected["payouts_enabled"] else "incomplete"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<title>Stripe sandbox onboarding</title></head><body>"
        f"<h1>Connect onboarding (sandbox)</h1><p>Account {account_id} {email}: {state}.</p>"
        f"<form method='post' action='/_sandbox/onboarding/{account_id}/complete?redirect=1'>"
        "<button type='submit'>Complete onboarding</button></form></body></html>"
    )


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post_webhook(url: str, payload: bytes, signature: str, host: str | None = None) -> dict:
    """POST one signed event; returns the attempt (status None when unreachable)."""
    headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
    if host:
        headers["Host"] = host  # the receiver routes tenants by host, as in production
    request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
    attempt: dict[str, Any] = {"url": url, "attempted_at": _now(), "status": None, "error": None}
    try:
        with _NO_PROXY_OPENER.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as reply:
            attempt["status"] = reply.status
    except urllib.error.HTTPError as error:
        attempt.update(status=error.code, error=f"HTTP {error.code}")
    except OSError as error:
        attempt["error"] = str(error)
    if attempt["error"]:
        logger.warning("Stripe sandbox webhook to %s failed: %s", url, attempt["error"])
    return attempt


# ---------------------------------------------------------------------------------------------
# Running it


_LOG_PREFIX = "stripe sandbox: "


def serve(
    host: str = "127.0.0.1", port: int = 0, sandbox: StripeSandbox | None = None
) -> tuple[ThreadingServer, str]:
    """Serve a sandbox from a daemon thread; port 0 picks a free port. Returns the server
    (`.shutdown()` stops it, `.sandbox` is the app) and its base URL."""
    return serve_in_thread(
        sandbox or StripeSandbox(),
        host=host,
        port=port,
        thread_name="stripe-sandbox",
        logger_name=__name__,
        log_prefix=_LOG_PREFIX,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the local Stripe sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--state-file", help="JSON file that keeps accounts across restarts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    sandbox = StripeSandbox(state_file=args.state_file)
    server, _ = build_server(
        sandbox, host=args.host, port=args.port, logger_name=__name__, log_prefix=_LOG_PREFIX
    )
    logger.info("Stripe sandbox on http://%s:%s", args.host, server.server_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
