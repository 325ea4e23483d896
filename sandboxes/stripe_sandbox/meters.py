"""Stripe Billing's usage meters: a meter (`POST /v1/billing/meters`) names the event it
counts and how it aggregates; meter events (`POST /v1/billing/meter_events`) report a
customer's usage; a metered price (`recurring[usage_type]=metered`, `recurring[meter]`) on a
subscription item bills the period's aggregate on the invoice that closes the period.

As Stripe documents: an event's `identifier` is unique for a rolling period of at least 24
hours (the sandbox keeps every one, which honours "at least"), and a reused one is refused
with "An event already exists with identifier …"; `timestamp` must lie within the past 35
calendar days and at most 5 minutes ahead; `payload` must carry the meter's customer key
(default `stripe_customer_id`) and value key (default `value`). What Stripe checks only
later, asynchronously (an unknown customer, a value that is not a number, an event no meter
counts), the sandbox accepts and leaves out of every aggregate, as Stripe does."""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any

from sandboxes.stripe_sandbox.calls import CallContext
from sandboxes.stripe_sandbox.catalog import Catalog
from sandboxes.stripe_sandbox.errors import StripeApiError
from sandboxes.stripe_sandbox.objects import new_id, new_object, random_token, unix_time
from sandboxes.stripe_sandbox.params import Params

METER_FORMULAS = ("sum", "count", "last")
EVENT_PAST_LIMIT_SECONDS = 35 * 86400
EVENT_FUTURE_LIMIT_SECONDS = 5 * 60
# Internal object type of a stored meter event (Stripe's has no id; the sandbox keys it).
METER_EVENT = "billing.meter_event"


def _meter_object(params: Params) -> dict[str, Any]:
    aggregation = params.mapping("default_aggregation")
    formula = aggregation.get("formula")
    if not aggregation or formula in (None, ""):
        raise StripeApiError(
            400,
            "Missing required param: default_aggregation[formula].",
            code="parameter_missing",
            param="default_aggregation[formula]",
        )
    if formula not in METER_FORMULAS:
        raise StripeApiError(
            400,
            f"Invalid default_aggregation[formula]: must be one of {', '.join(METER_FORMULAS)}",
            code="parameter_invalid_string",
            param="default_aggregation[formula]",
        )
    mapping = params.mapping("customer_mapping")
    if mapping and mapping.get("type", "by_id") != "by_id":
        raise StripeApiError(
            400,
            "Invalid customer_mapping[type]: must be one of by_id",
            code="parameter_invalid_string",
            param="customer_mapping[type]",
        )
    value_settings = params.mapping("value_settings")
    now = unix_time()
    return {
        **new_object("mtr", "billing.meter"),
        "customer_mapping": {
            "type": "by_id",
            "event_payload_key": str(mapping.get("event_payload_key") or "stripe_customer_id"),
        },
        "default_aggregation": {"formula": formula},
        "display_name": params.text("display_name", required=True),
        "event_name": params.text("event_name", required=True),
        "event_time_window": params.text("event_time_window", choices=("day", "hour")),
        "status": "active",
        "status_transitions": {"deactivated_at": None},
        "updated": now,
        "value_settings": {
            "event_payload_key": str(value_settings.get("event_payload_key") or "value")
        },
    }


def _public_event(event: dict[str, Any]) -> dict[str, Any]:
    shown = copy.deepcopy(event)
    shown.pop("id", None)
    shown.pop("meter", None)
    return shown


class Meters(Catalog):
    """Meters, their events, and the usage a metered price bills over a period."""

    def _api_meter_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(
            call.params,
            (
                "default_aggregation",
                "display_name",
                "event_name",
                "customer_mapping",
                "value_settings",
                "event_time_window",
            ),
        )
        meter = _meter_object(params)
        for other in self._billing_objects(call.account.id, "billing.meter"):
            if other["event_name"] == meter["event_name"] and other["status"] == "active":
                raise StripeApiError(
                    400,
                    f"An active meter with event_name `{meter['event_name']}` already exists.",
                    param="event_name",
                )
        self._store(call.account.id, meter)
        return self._expanded(call, meter, params.expand)

    def _api_meter_list(self, call: CallContext) -> dict[str, Any]:
        params = Params(call.params, ("limit", "status", "starting_after", "ending_before"))
        status = params.text("status", choices=("active", "inactive"))
        limit = min(params.integer("limit") or 10, 100)
        meters = [
            meter
            for meter in reversed(self._billing_objects(call.account.id, "billing.meter"))
            if status in (None, meter["status"])
        ]
        return {
            "object": "list",
            "data": [copy.deepcopy(meter) for meter in meters[:limit]],
            "has_more": len(meters) > limit,
            "url": "/v1/billing/meters",
        }

    def _api_meter_retrieve(self, call: CallContext, object_id: str) -> dict[str, Any]:
        Params(call.params)
        return copy.deepcopy(self._owned(call.account.id, object_id, "billing.meter"))

    def _api_meter_event_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(call.params, ("event_name", "payload", "identifier", "timestamp"))
        event_name = params.text("event_name", required=True) or ""
        if not params.data.get("payload"):
            raise StripeApiError(
                400, "Missing required param: payload.", code="parameter_missing", param="payload"
            )
        payload = {key: str(value) for key, value in params.mapping("payload").items()}
        now = unix_time()
        timestamp = params.integer("timestamp", minimum=0)
        timestamp = now if timestamp is None else timestamp
        if timestamp < now - EVENT_PAST_LIMIT_SECONDS:
            raise StripeApiError(
                400,
                "Timestamp must be within the past 35 calendar days.",
                code="timestamp_too_far_in_past",
                param="timestamp",
            )
        if timestamp > now + EVENT_FUTURE_LIMIT_SECONDS:
            raise StripeApiError(
                400,
                "Timestamp must be no more than 5 minutes in the future.",
                code="timestamp_in_future",
                param="timestamp",
            )
        meter = next(
            (
                found
                for found in self._billing_objects(call.account.id, "billing.meter")
                if found["event_name"] == event_name and found["status"] == "active"
            ),
            None,
        )
        for key in (
            (meter or {}).get("customer_mapping", {}).get("event_payload_key")
            or "stripe_customer_id",
            (meter or {}).get("value_settings", {}).get("event_payload_key") or "value",
        ):
            if not payload.get(key):
                raise StripeApiError(
                    400,
                    f"Missing required param: payload[{key}].",
                    code="parameter_missing",
                    param=f"payload[{key}]",
                )
        identifier = params.text("identifier") or f"{random_token(8)}-{random_token(20)}"
        slot = f"{call.account.id}:{identifier}"
        if slot in self._meter_identifiers():
            raise StripeApiError(
                400, f"An event already exists with identifier {identifier}.", param="identifier"
            )
        event = {
            "id": new_id("mtrevt"),
            "object": METER_EVENT,
            "created": now,
            "event_name": event_name,
            "identifier": identifier,
            "livemode": False,
            "payload": payload,
            "timestamp": timestamp,
            "meter": meter["id"] if meter else None,
        }
        self._store(call.account.id, event)
        return _public_event(event)

    def _meter_identifiers(self) -> set[str]:
        return {
            f"{self._owners[obj['id']]}:{obj['identifier']}"
            for obj in self._objects.values()
            if obj["object"] == METER_EVENT
        }

    def _metered_quantity(
        self, account_id: str, meter_id: str, customer_id: str, period: tuple[int, int]
    ) -> int:
        """The meter's aggregate for the customer over [start, end): what a metered price
        bills. Events with a value that is no number are left out, as Stripe's asynchronous
        validation does."""
        meter = self._owned(account_id, meter_id, "billing.meter")
        customer_key = meter["customer_mapping"]["event_payload_key"]
        value_key = meter["value_settings"]["event_payload_key"]
        values: list[Decimal] = []
        for event in sorted(
            self._billing_objects(account_id, METER_EVENT), key=lambda e: e["timestamp"]
        ):
            if (
                event["meter"] != meter_id
                or event["payload"].get(customer_key) != customer_id
                or not period[0] <= event["timestamp"] < period[1]
            ):
                continue
            try:
                values.append(Decimal(event["payload"].get(value_key, "")))
            except InvalidOperation:
                continue
        formula = meter["default_aggregation"]["formula"]
        if formula == "count":
            return len(values)
        if formula == "last":
            return int(values[-1]) if values else 0
        return int(sum(values, Decimal(0)))
