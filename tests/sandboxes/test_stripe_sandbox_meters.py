"""The Stripe sandbox's usage-based billing, driven through the official SDK: meters, meter
events with Stripe's validation and identifier dedupe, metered prices on a subscription
item, and the invoice that closes a period billing the meter's usage."""

from __future__ import annotations

import time

import pytest
import stripe

from tests.sandboxes.test_stripe_sandbox import (  # noqa: F401
    _customer,
    _monthly_price,
    _subscribe,
    account,
    base_url,
    client,
    sandbox,
    served,
)


def _meter(stripe_client, event_name: str = "talk_minutes") -> stripe.billing.Meter:
    return stripe_client.v1.billing.meters.create(
        params={
            "display_name": "Talk minutes",
            "event_name": event_name,
            "default_aggregation": {"formula": "sum"},
        }
    )


def _metered_price(stripe_client, meter_id: str, amount: int = 10) -> stripe.Price:
    return stripe_client.v1.prices.create(
        params={
            "currency": "eur",
            "unit_amount": amount,
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter_id},
            "product_data": {"name": "Minutes past the included ones"},
        }
    )


def _report(stripe_client, customer_id: str, value: int, identifier: str, **extra):
    return stripe_client.v1.billing.meter_events.create(
        params={
            "event_name": "talk_minutes",
            "payload": {"stripe_customer_id": customer_id, "value": str(value)},
            "identifier": identifier,
            **extra,
        }
    )


def test_a_meter_takes_stripes_defaults_and_its_event_name_once(client):  # noqa: F811
    meter = _meter(client)
    assert meter.object == "billing.meter" and meter.status == "active"
    assert meter.customer_mapping.event_payload_key == "stripe_customer_id"
    assert meter.value_settings.event_payload_key == "value"
    assert client.v1.billing.meters.retrieve(meter.id).event_name == "talk_minutes"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        _meter(client)
    assert refused.value.param == "event_name"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.billing.meters.create(
            params={"display_name": "x", "event_name": "y", "default_aggregation": {}}
        )
    assert refused.value.code == "parameter_missing"


def test_meter_events_are_validated_and_an_identifier_counts_once(client):  # noqa: F811
    _meter(client)
    customer = _customer(client)
    event = _report(client, customer.id, 30, "day-1")
    assert event.object == "billing.meter_event" and event.payload["value"] == "30"
    with pytest.raises(stripe.InvalidRequestError) as duplicate:
        _report(client, customer.id, 30, "day-1")
    assert "already exists with identifier day-1" in str(duplicate.value)
    with pytest.raises(stripe.InvalidRequestError) as old:
        _report(client, customer.id, 1, "day-0", timestamp=int(time.time()) - 36 * 86400)
    assert old.value.param == "timestamp"
    with pytest.raises(stripe.InvalidRequestError) as ahead:
        _report(client, customer.id, 1, "day-9", timestamp=int(time.time()) + 3600)
    assert ahead.value.param == "timestamp"
    with pytest.raises(stripe.InvalidRequestError) as no_value:
        client.v1.billing.meter_events.create(
            params={"event_name": "talk_minutes", "payload": {"stripe_customer_id": customer.id}}
        )
    assert no_value.value.param == "payload[value]"


def test_a_metered_price_needs_a_meter(client):  # noqa: F811
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.prices.create(
            params={
                "currency": "eur",
                "unit_amount": 10,
                "recurring": {"interval": "month", "usage_type": "metered"},
                "product_data": {"name": "Minutes"},
            }
        )
    assert refused.value.param == "recurring[meter]"


def test_the_invoice_closing_a_period_bills_the_metered_usage_of_that_period(
    client,  # noqa: F811
    sandbox,  # noqa: F811
):
    meter = _meter(client)
    customer = _customer(client)
    subscription = _subscribe(client, customer, _monthly_price(client))
    sandbox.pay_invoice(subscription.latest_invoice.id)
    price = _metered_price(client, meter.id, amount=10)
    item = client.v1.subscription_items.create(
        params={"subscription": subscription.id, "price": price.id}
    )
    assert item.price.recurring.usage_type == "metered" and "quantity" not in item
    with pytest.raises(stripe.InvalidRequestError):  # the same price twice
        client.v1.subscription_items.create(
            params={"subscription": subscription.id, "price": price.id}
        )
    _report(client, customer.id, 120, "a")
    _report(client, customer.id, 30, "b")
    other = _customer(client)  # another customer's usage is not on this invoice
    _report(client, other.id, 999, "c")

    invoice = sandbox.advance_subscription(subscription.id)
    metered = [
        line
        for line in invoice["lines"]["data"]
        if line["parent"]["subscription_item_details"]
        and line["parent"]["subscription_item_details"]["subscription_item"] == item.id
    ]
    assert [(line["quantity"], line["amount"]) for line in metered] == [(150, 1_500)]
    assert invoice["subtotal"] == 4_900 + 1_500
    # The next period starts from nothing.
    following = sandbox.advance_subscription(subscription.id)
    assert [line["amount"] for line in following["lines"]["data"]] == [4_900, 0]
