"""Invoices and invoice items: a subscription's invoice is drafted with the customer's
pending items, finalized, then paid or declined, with Stripe's events for each step."""

from __future__ import annotations

import copy
from typing import Any

from sandboxes.stripe_sandbox.calls import CallContext
from sandboxes.stripe_sandbox.errors import StripeApiError
from sandboxes.stripe_sandbox.meters import Meters
from sandboxes.stripe_sandbox.objects import new_id, new_object, random_token, unix_time
from sandboxes.stripe_sandbox.params import Params

# A stand-in for Stripe Tax: exclusive VAT by the customer's country when a subscription has
# `automatic_tax[enabled]`; other countries are "not_collecting".
AUTOMATIC_TAX_RATES_BPS = {"CY": 1900, "DE": 1900, "FR": 2000, "NL": 2100, "IE": 2300}

# Statuses a paid invoice brings back to `active`.
SUBSCRIPTION_OWING_STATUSES = ("incomplete", "past_due", "unpaid")
PAYMENT_RETRY_SECONDS = 3 * 86400


def _timestamp(raw: Any, param: str, default: int) -> int:
    if raw in (None, ""):
        return default
    try:
        return int(str(raw))
    except ValueError:
        raise StripeApiError(
            400, f"Invalid timestamp: {raw}", code="parameter_invalid_integer", param=param
        ) from None


def _subscription_line(
    subscription: dict[str, Any], amount: int, product_name: str
) -> dict[str, Any]:
    """The licensed (first) item's line: one of it, for `amount`."""
    item = subscription["items"]["data"][0]
    period = (item["current_period_start"], item["current_period_end"])
    return _item_line(subscription, item, amount, 1, period, product_name)


def _metered_line(
    subscription: dict[str, Any],
    item: dict[str, Any],
    quantity: int,
    period: tuple[int, int],
    product_name: str,
) -> dict[str, Any]:
    """A metered item's line on the invoice that closes its period: the meter's aggregate
    times the price's unit amount, billed in arrears."""
    amount = quantity * item["price"]["unit_amount"]
    return _item_line(subscription, item, amount, quantity, period, product_name)


def _item_line(
    subscription: dict[str, Any],
    item: dict[str, Any],
    amount: int,
    quantity: int,
    period: tuple[int, int],
    product_name: str,
) -> dict[str, Any]:
    """An invoice line item for one subscription item, as Stripe's API shows it."""
    price = item["price"]
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": amount,
        "currency": price["currency"],
        "description": f"{quantity} × {product_name}",
        "period": {"start": period[0], "end": period[1]},
        "quantity": quantity,
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
    invoice = new_object("in", "invoice")
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


class Invoices(Meters):
    """Invoice items, and a subscription's invoices from draft to paid; also the status an
    invoice's outcome gives its subscription."""

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
        now = unix_time()
        invoice_item = {
            **new_object("ii", "invoiceitem"),
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
        usage_period: tuple[int, int] | None = None,
    ) -> dict[str, Any]:
        """Draft, finalize and (at zero) settle one subscription invoice, taking in the
        customer's pending invoice items and, for the period that just ended
        (`usage_period`), each metered item's usage, with Stripe's events for each step."""
        customer = self._objects[subscription["customer"]]
        pending = [
            item
            for item in self._billing_objects(account_id, "invoiceitem")
            if item["customer"] == customer["id"]
            and item["invoice"] is None
            and item["subscription"] in (None, subscription["id"])
        ]
        lines = [
            _subscription_line(
                subscription, amount, self._product_name(subscription["items"]["data"][0])
            )
        ]
        if usage_period is not None:
            for item in subscription["items"]["data"]:
                recurring = item["price"].get("recurring") or {}
                if recurring.get("usage_type") != "metered":
                    continue
                quantity = self._metered_quantity(
                    account_id, recurring["meter"], customer["id"], usage_period
                )
                lines.append(
                    _metered_line(
                        subscription, item, quantity, usage_period, self._product_name(item)
                    )
                )
        lines += [_invoice_item_line(item) for item in pending]
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
        invoice["status_transitions"]["finalized_at"] = unix_time()
        if invoice["amount_due"] > 0:
            invoice["confirmation_secret"] = {
                "client_secret": f"pi_{random_token(24)}_secret_{random_token(25)}",
                "type": "payment_intent",
            }
        self._emit(account_id, "invoice.finalized", invoice, request=request)
        if invoice["amount_due"] == 0:
            self._invoice_settle(account_id, invoice, request=request)
        return invoice

    def _product_name(self, item: dict[str, Any]) -> str:
        """Stripe names a subscription line after the price's product."""
        product = self._objects.get(item["price"]["product"] or "") or {}
        return str(product.get("name") or item["price"]["product"])

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
        invoice["status_transitions"]["paid_at"] = unix_time()
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
                next_payment_attempt=unix_time() + PAYMENT_RETRY_SECONDS,
            )
            self._emit(owner, "invoice.payment_failed", invoice)
            subscription = self._invoice_subscription(invoice)
            if subscription and subscription["status"] in ("active", "trialing"):
                self._subscription_status(owner, subscription, "past_due")
            return copy.deepcopy(invoice)
