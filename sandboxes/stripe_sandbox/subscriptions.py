"""Subscriptions: created on a recurring price, cancelled, and moved through their periods
(or left to expire unpaid) by the sandbox playing time's part."""

from __future__ import annotations

import calendar
import copy
from datetime import UTC, datetime
from typing import Any

from sandboxes.stripe_sandbox.calls import CallContext
from sandboxes.stripe_sandbox.errors import StripeApiError
from sandboxes.stripe_sandbox.invoices import Invoices
from sandboxes.stripe_sandbox.objects import new_id, new_object, unix_time
from sandboxes.stripe_sandbox.params import Params

SUBSCRIPTION_ENDED_STATUSES = ("canceled", "incomplete_expired")


def _add_months(timestamp: int, months: int) -> int:
    """Stripe's monthly billing: the same day next month, or that month's last day."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


class Subscriptions(Invoices):
    """Subscriptions, and the periods the sandbox moves them through."""

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
        now = unix_time()
        period_end = now + trial_days * 86400 if trial_days else _add_months(now, 1)
        subscription = {
            **new_object("sub", "subscription"),
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

    def _api_subscription_update(self, call: CallContext, object_id: str) -> dict[str, Any]:
        """Move the subscription's item to another price. As Stripe documents, the change is
        prorated by default (`create_prorations`): to the second over the current period, a
        credit for the unused time on the old price and a charge for the remaining time on the
        new one, as pending invoice items (`proration: true`) for the next invoice;
        `always_invoice` invoices them at once, `none` creates none. A trial is not
        prorated."""
        params = Params(
            call.params,
            ("items", "proration_behavior", "proration_date", "metadata", "payment_behavior"),
        )
        account_id = call.account.id
        subscription = self._owned(account_id, object_id, "subscription")
        if subscription["status"] in SUBSCRIPTION_ENDED_STATUSES:
            raise StripeApiError(
                400,
                "A canceled subscription can only update its cancellation_details and metadata.",
            )
        behavior = (
            params.text(
                "proration_behavior", choices=("create_prorations", "none", "always_invoice")
            )
            or "create_prorations"
        )
        item = subscription["items"]["data"][0]
        previous = copy.deepcopy(subscription["items"])
        items = params.data.get("items")
        if items is not None:
            if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
                raise StripeApiError(
                    400, "The Stripe sandbox updates exactly one item.", param="items"
                )
            if items[0].get("id") != item["id"]:
                raise StripeApiError(
                    400,
                    "To change a subscription's price, pass the id of its existing item "
                    "(items[0][id]) with the new price.",
                    param="items[0][id]",
                )
            new_price = self._subscription_price(account_id, [{"price": items[0].get("price")}])
            if new_price["currency"] != item["price"]["currency"]:
                raise StripeApiError(
                    400,
                    "The price's currency must match the subscription's currency.",
                    param="items[0][price]",
                )
            now = unix_time()
            moment = params.integer("proration_date", minimum=0) or now
            old_price = item["price"]
            prorate = (
                behavior != "none"
                and subscription["status"] != "trialing"
                and new_price["id"] != old_price["id"]
            )
            if prorate:
                self._prorations(call, subscription, item, old_price, new_price, moment)
            item["price"] = copy.deepcopy(new_price)
            if prorate and behavior == "always_invoice":
                self._invoice_issue(
                    account_id,
                    subscription,
                    amount=0,
                    billing_reason="subscription_update",
                    period=(now, now),
                    hosted_base=f"{call.base_url}/_sandbox/invoices",
                    request=call,
                )
        if "metadata" in params.data:
            subscription["metadata"] = params.metadata()
        self._emit(
            account_id,
            "customer.subscription.updated",
            subscription,
            request=call,
            previous={"items": previous},
        )
        return self._expanded(call, subscription, params.expand)

    def _api_subscription_item_create(self, call: CallContext) -> dict[str, Any]:
        """Add an item to a live subscription; a metered one takes no quantity and bills its
        meter's usage on the invoice that closes each period."""
        params = Params(
            call.params,
            ("subscription", "price", "quantity", "metadata", "proration_behavior"),
        )
        account_id = call.account.id
        subscription_id = params.text("subscription", required=True) or ""
        subscription = self._owned(account_id, subscription_id, "subscription", "subscription")
        if subscription["status"] in SUBSCRIPTION_ENDED_STATUSES:
            raise StripeApiError(
                400, "A canceled subscription cannot take new items.", param="subscription"
            )
        price_id = params.text("price", required=True) or ""
        price = self._subscription_price(account_id, [{"price": price_id}])
        self._check_item_price(subscription, price, params, current=None)
        first = subscription["items"]["data"][0]
        metered = price["recurring"]["usage_type"] == "metered"
        item = {
            "id": new_id("si"),
            "object": "subscription_item",
            "created": unix_time(),
            "price": copy.deepcopy(price),
            "subscription": subscription["id"],
            "current_period_start": first["current_period_start"],
            "current_period_end": first["current_period_end"],
            "metadata": params.metadata(),
        }
        if not metered:
            item["quantity"] = params.integer("quantity") or 1
        previous = copy.deepcopy(subscription["items"])
        subscription["items"]["data"].append(item)
        self._emit(
            account_id,
            "customer.subscription.updated",
            subscription,
            request=call,
            previous={"items": previous},
        )
        return copy.deepcopy(item)

    def _api_subscription_item_update(self, call: CallContext, object_id: str) -> dict[str, Any]:
        """Move an item to another price of the same currency (a metered item is not
        prorated: its usage is billed at the end of the period)."""
        params = Params(call.params, ("price", "quantity", "metadata", "proration_behavior"))
        account_id = call.account.id
        subscription, item = self._subscription_item(account_id, object_id)
        if subscription["status"] in SUBSCRIPTION_ENDED_STATUSES:
            raise StripeApiError(
                400,
                "A canceled subscription can only update its cancellation_details and metadata.",
            )
        previous = copy.deepcopy(subscription["items"])
        price_id = params.text("price")
        if price_id:
            price = self._subscription_price(account_id, [{"price": price_id}])
            self._check_item_price(subscription, price, params, current=item)
            item["price"] = copy.deepcopy(price)
        if "metadata" in params.data:
            item["metadata"] = params.metadata()
        self._emit(
            account_id,
            "customer.subscription.updated",
            subscription,
            request=call,
            previous={"items": previous},
        )
        return copy.deepcopy(item)

    def _subscription_item(
        self, account_id: str, item_id: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        for subscription in self._billing_objects(account_id, "subscription"):
            for item in subscription["items"]["data"]:
                if item["id"] == item_id:
                    return subscription, item
        raise StripeApiError(
            404,
            f"No such subscription_item: '{item_id}'",
            code="resource_missing",
            param="id",
        )

    @staticmethod
    def _check_item_price(
        subscription: dict[str, Any],
        price: dict[str, Any],
        params: Params,
        *,
        current: dict[str, Any] | None,
    ) -> None:
        first = subscription["items"]["data"][0]["price"]
        if price["currency"] != first["currency"]:
            raise StripeApiError(
                400, "The price's currency must match the subscription's currency.", param="price"
            )
        for other in subscription["items"]["data"]:
            if other is not current and other["price"]["id"] == price["id"]:
                raise StripeApiError(
                    400,
                    "Cannot add multiple subscription items with the same price.",
                    param="price",
                )
        if price["recurring"]["usage_type"] == "metered" and params.data.get("quantity"):
            raise StripeApiError(
                400,
                "Quantity should not be specified where usage_type is `metered`. Remove "
                "quantity from the request.",
                param="quantity",
            )

    def _prorations(
        self,
        call: CallContext,
        subscription: dict[str, Any],
        item: dict[str, Any],
        old_price: dict[str, Any],
        new_price: dict[str, Any],
        moment: int,
    ) -> None:
        start, end = item["current_period_start"], item["current_period_end"]
        effective = min(max(moment, start), end)
        remaining, length = end - effective, max(end - start, 1)
        for price, sign, label in (
            (old_price, -1, "Unused time on"),
            (new_price, 1, "Remaining time on"),
        ):
            amount = sign * round(price["unit_amount"] * remaining / length)
            if not amount:
                continue
            invoice_item = {
                **new_object("ii", "invoiceitem"),
                "customer": subscription["customer"],
                "amount": amount,
                "currency": price["currency"],
                "description": f"{label} {price.get('nickname') or price['id']}",
                "metadata": {},
                "period": {"start": effective, "end": end},
                "subscription": subscription["id"],
                "invoice": None,
                "date": unix_time(),
                "proration": True,
                "quantity": 1,
                "discountable": False,
                "price": copy.deepcopy(price),
            }
            self._store(call.account.id, invoice_item)
            self._emit(call.account.id, "invoiceitem.created", invoice_item, request=call)

    def _api_subscription_cancel(self, call: CallContext, object_id: str) -> dict[str, Any]:
        params = Params(call.params, ("invoice_now", "prorate", "cancellation_details"))
        subscription = self._owned(call.account.id, object_id, "subscription")
        if subscription["status"] in SUBSCRIPTION_ENDED_STATUSES:
            raise StripeApiError(
                400,
                "A canceled subscription can only update its cancellation_details and metadata.",
            )
        now = unix_time()
        subscription.update(
            status="canceled",
            canceled_at=now,
            ended_at=now,
            cancellation_details={"reason": "cancellation_requested"},
        )
        self._emit(call.account.id, "customer.subscription.deleted", subscription, request=call)
        return self._expanded(call, subscription, params.expand)

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
            for each in subscription["items"]["data"]:  # every item shares the period
                each.update(current_period_start=ends, current_period_end=_add_months(ends, 1))
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
                usage_period=(started, ends),
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
                invoice["status_transitions"]["voided_at"] = unix_time()
                self._emit(owner, "invoice.voided", invoice)
            subscription["ended_at"] = unix_time()
            self._subscription_status(owner, subscription, "incomplete_expired")
            return copy.deepcopy(subscription)
