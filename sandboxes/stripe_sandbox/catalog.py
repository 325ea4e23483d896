"""What Stripe Billing bills: customers, products and their prices."""

from __future__ import annotations

from typing import Any

from sandboxes.stripe_sandbox.calls import CallContext
from sandboxes.stripe_sandbox.errors import StripeApiError
from sandboxes.stripe_sandbox.objects import new_object, random_token
from sandboxes.stripe_sandbox.params import Params, item_fields
from sandboxes.stripe_sandbox.webhooks import Webhooks

PRICE_INTERVALS = ("day", "week", "month", "year")


def _address_object(raw: dict[str, Any]) -> dict[str, Any] | None:
    if not raw:
        return None
    keys = ("line1", "line2", "city", "postal_code", "state", "country")
    return {key: (str(raw[key]) if raw.get(key) else None) for key in keys}


def _customer_object(params: Params) -> dict[str, Any]:
    return {
        **new_object("cus", "customer"),
        "name": params.text("name"),
        "email": params.text("email"),
        "phone": params.text("phone"),
        "description": params.text("description"),
        "address": _address_object(params.mapping("address")),
        "currency": None,  # fixed by the first invoice or invoice item
        "tax_exempt": params.text("tax_exempt", choices=("none", "exempt", "reverse")) or "none",
        "invoice_prefix": random_token(8).upper(),
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
    usage_type = (recurring.get("usage_type") or "licensed") if recurring else None
    if usage_type not in (None, "licensed", "metered"):
        raise StripeApiError(
            400,
            "Invalid recurring[usage_type]: must be one of licensed, metered",
            code="parameter_invalid_string",
            param="recurring[usage_type]",
        )
    if usage_type == "metered" and not recurring.get("meter"):
        # Since API version 2025-03-31, a metered price must be backed by a meter.
        raise StripeApiError(
            400,
            "Missing required param: recurring[meter].",
            code="parameter_missing",
            param="recurring[meter]",
        )
    return {
        **new_object("price", "price"),
        "active": True,
        "currency": params.currency(),
        "unit_amount": params.integer("unit_amount", required=True, minimum=0),
        "product": params.text("product"),
        "type": "recurring" if recurring else "one_time",
        "recurring": (
            {
                "interval": recurring["interval"],
                "interval_count": int(str(recurring.get("interval_count") or 1)),
                "usage_type": usage_type,
                "meter": str(recurring["meter"]) if usage_type == "metered" else None,
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


class Catalog(Webhooks):
    """Customers, products and prices."""

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
        meter_id = (price["recurring"] or {}).get("meter")
        if meter_id:
            meter = self._owned(call.account.id, meter_id, "billing.meter", "recurring[meter]")
            if meter["status"] != "active":
                raise StripeApiError(
                    400, f"The meter {meter_id} is inactive.", param="recurring[meter]"
                )
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
            **new_object("prod", "product"),
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
                self._expanded(call, price, item_fields(params.expand)) for price in prices[:limit]
            ],
            "has_more": len(prices) > limit,
            "url": "/v1/prices",
        }

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
