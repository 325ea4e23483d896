"""The Stripe sandbox, driven through the official stripe SDK as the product drives Stripe."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest
import stripe

from sandboxes.stripe_sandbox import StripeApiError, StripeSandbox, parse_form, serve


@pytest.fixture(scope="module")
def served():
    sandbox = StripeSandbox()
    server, base_url = serve(sandbox=sandbox)
    yield sandbox, base_url
    server.shutdown()


@pytest.fixture
def sandbox(served) -> StripeSandbox:
    return served[0]


@pytest.fixture
def base_url(served) -> str:
    return served[1]


@pytest.fixture
def account(sandbox) -> dict:
    return sandbox.create_account(display_name="Aurora Psychics")


@pytest.fixture
def client(account, base_url) -> stripe.StripeClient:
    return _client(account["secret_key"], base_url)


def _client(secret_key: str, base_url: str) -> stripe.StripeClient:
    return stripe.StripeClient(secret_key, base_addresses={"api": base_url}, max_network_retries=0)


def _paid_intent(client, sandbox, amount: int = 1000) -> stripe.PaymentIntent:
    intent = client.v1.payment_intents.create(params={"amount": amount, "currency": "eur"})
    sandbox.succeed_payment_intent(intent.id)
    return client.v1.payment_intents.retrieve(intent.id)


def _onboarded_advisor(client, sandbox) -> stripe.Account:
    advisor = client.v1.accounts.create(
        params={
            "type": "express",
            "email": "advisor@aurora.test",
            "capabilities": {"transfers": {"requested": True}},
        }
    )
    sandbox.complete_onboarding(advisor.id)
    return advisor


def _http(method: str, url: str, data: dict | None = None) -> tuple[int, dict]:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/webhooks/stripe"


# -- API basics -----------------------------------------------------------------------------


def test_account_retrieve_returns_the_platform_account(client, account):
    found = client.v1.accounts.retrieve_current()

    assert found.id == account["account_id"]
    assert found.object == "account"
    assert found.charges_enabled is True
    assert found.settings.dashboard.display_name == "Aurora Psychics"
    assert found.email


def test_unknown_key_is_refused_with_authentication_error(base_url):
    with pytest.raises(stripe.AuthenticationError) as raised:
        _client("sk_test_sandbox_not_a_real_key", base_url).v1.accounts.retrieve_current()

    assert raised.value.http_status == 401
    assert raised.value.user_message.startswith("Invalid API Key provided: sk_test_")
    assert "not_a_real" not in raised.value.user_message


def test_one_accounts_objects_are_missing_for_another(client, sandbox, base_url):
    intent = client.v1.payment_intents.create(params={"amount": 500, "currency": "eur"})
    other = _client(sandbox.create_account()["secret_key"], base_url)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        other.v1.payment_intents.retrieve(intent.id)

    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"


def test_unknown_route_and_unknown_parameter_are_stripe_errors(client):
    with pytest.raises(stripe.InvalidRequestError) as unknown_route:
        client.raw_request("get", "/v1/no_such_things")
    with pytest.raises(stripe.InvalidRequestError) as unknown_param:
        client.v1.payment_intents.create(
            params={"amount": 500, "currency": "eur", "amout": 5}  # type: ignore[typeddict-unknown-key]
        )
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.create(params={"currency": "eur"})  # type: ignore[typeddict-item]

    assert unknown_route.value.http_status == 404
    assert unknown_param.value.param == "amout"
    assert missing.value.code == "parameter_missing"


def test_form_encoding_parses_into_nested_data():
    parsed = parse_form(
        "amount=7&metadata[topup_id]=7&metadata[0]=zero&expand[0]=a&expand[1]=b"
        "&automatic_payment_methods[enabled]=true&payment_method_types[]=card"
    )

    assert parsed == {
        "amount": "7",
        "metadata": {"topup_id": "7", "0": "zero"},
        "expand": ["a", "b"],
        "automatic_payment_methods": {"enabled": "true"},
        "payment_method_types": ["card"],
    }


# -- Payments ---------------------------------------------------------------------------------


def test_payment_intent_create_and_retrieve(client):
    created = client.v1.payment_intents.create(
        params={
            "amount": 2500,
            "currency": "EUR",
            "metadata": {"topup_id": 7},
            "automatic_payment_methods": {"enabled": True},
            "description": "Wallet top-up",
        }
    )
    found = client.v1.payment_intents.retrieve(created.id)

    assert created.id.startswith("pi_")
    assert created.client_secret.startswith(f"{created.id}_secret_")
    assert created.status == "requires_payment_method"
    assert created.livemode is False
    assert found.amount == 2500
    assert found.currency == "eur"
    assert found.metadata["topup_id"] == "7"
    assert found.automatic_payment_methods.enabled is True


def test_reused_idempotency_key_replays_the_first_response(client):
    params = {"amount": 1200, "currency": "eur"}
    first = client.v1.payment_intents.create(params=params, options={"idempotency_key": "k1"})
    again = client.v1.payment_intents.create(params=params, options={"idempotency_key": "k1"})

    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create(
            params={"amount": 1300, "currency": "eur"}, options={"idempotency_key": "k1"}
        )


def test_succeeded_payment_sends_signed_events(client, sandbox, account):
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "eur", "metadata": {"topup_id": "7"}}
    )

    sandbox.succeed_payment_intent(intent.id)

    types = [event["type"] for event in sandbox.events(account["account_id"])]
    assert types == ["charge.succeeded", "payment_intent.succeeded", "payment_intent.created"]
    succeeded = sandbox.events(account["account_id"], "payment_intent.succeeded")[0]
    payload = sandbox.event_payload(succeeded["id"])
    header = sandbox.sign(payload, account["webhook_secret"])
    event = stripe.Webhook.construct_event(payload, header, account["webhook_secret"])
    assert event.id.startswith("evt_")
    assert event.type == "payment_intent.succeeded"
    assert event.data.object.id == intent.id
    assert event.data.object.status == "succeeded"
    assert event.data.object.metadata["topup_id"] == "7"
    expanded = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge"]})
    assert expanded.latest_charge.object == "charge"
    assert expanded.latest_charge.payment_method == expanded.payment_method
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, header, "whsec_someone_else")


def test_signature_uses_stripes_scheme(sandbox):
    header = sandbox.sign(b'{"id": "evt_1"}', "whsec_test", timestamp=1700000000)

    expected = stripe.WebhookSignature._compute_signature(
        '1700000000.{"id": "evt_1"}', "whsec_test"
    )
    assert header == f"t=1700000000,v1={expected}"


def test_failed_and_canceled_payment_intents(client, sandbox, account):
    intent = client.v1.payment_intents.create(params={"amount": 900, "currency": "eur"})

    sandbox.fail_payment_intent(intent.id, decline_code="insufficient_funds")
    canceled = client.v1.payment_intents.cancel(intent.id)

    failed = sandbox.events(account["account_id"], "payment_intent.payment_failed")[0]
    assert failed["data"]["object"]["last_payment_error"]["decline_code"] == "insufficient_funds"
    assert canceled.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.cancel(intent.id)
    assert raised.value.code == "payment_intent_unexpected_state"


def test_refund_updates_the_charge_and_refuses_over_refunds(client, sandbox, account):
    intent = _paid_intent(client, sandbox, amount=1000)

    refund = client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 300, "metadata": {"reason_id": "r1"}}
    )
    with pytest.raises(stripe.InvalidRequestError) as too_large:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 800})
    rest = client.v1.refunds.create(params={"payment_intent": intent.id})
    with pytest.raises(stripe.InvalidRequestError) as already:
        client.v1.refunds.create(params={"payment_intent": intent.id})

    assert refund.id.startswith("re_")
    assert refund.status == "succeeded"
    assert (refund.amount, rest.amount) == (300, 700)
    assert too_large.value.code == "amount_too_large"
    assert already.value.code == "charge_already_refunded"
    refunded = sandbox.events(account["account_id"], "charge.refunded")
    charge = refunded[0]["data"]["object"]
    assert charge["id"] == intent.latest_charge
    assert (charge["amount"], charge["amount_refunded"], charge["refunded"]) == (1000, 1000, True)
    assert charge["payment_intent"] == intent.id
    assert [r["id"] for r in charge["refunds"]["data"]] == [rest.id, refund.id]
    assert refunded[1]["data"]["object"]["refunded"] is False
    assert len(sandbox.events(account["account_id"], "refund.created")) == 2


def test_dispute_created_then_closed(client, sandbox, account):
    intent = _paid_intent(client, sandbox, amount=1500)

    dispute = sandbox.dispute_charge(intent.latest_charge)
    sandbox.close_dispute(dispute["id"], "lost")

    created = sandbox.events(account["account_id"], "charge.dispute.created")[0]
    closed = sandbox.events(account["account_id"], "charge.dispute.closed")[0]
    assert created["data"]["object"]["id"].startswith("dp_")
    assert created["data"]["object"]["status"] == "needs_response"
    assert created["data"]["object"]["amount"] == 1500
    assert created["data"]["object"]["charge"] == intent.latest_charge
    assert created["data"]["object"]["payment_intent"] == intent.id
    assert closed["data"]["object"]["status"] == "lost"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"payment_intent": intent.id})
    assert raised.value.code == "charge_disputed"


# -- Connect ----------------------------------------------------------------------------------


def test_connect_onboarding_transfer_and_reversal(client, sandbox, account, base_url):
    _paid_intent(client, sandbox, amount=5000)
    advisor = client.v1.accounts.create(
        params={
            "type": "express",
            "email": "advisor@aurora.test",
            "capabilities": {"transfers": {"requested": True}},
        }
    )
    link = client.v1.account_links.create(
        params={
            "account": advisor.id,
            "refresh_url": "http://aurora.localhost/refresh",
            "return_url": "http://aurora.localhost/done",
            "type": "account_onboarding",
        }
    )
    with urllib.request.urlopen(link.url, timeout=5) as page:
        assert advisor.id in page.read().decode()
    sandbox.complete_onboarding(advisor.id)
    transfer = client.v1.transfers.create(
        params={
            "amount": 3000,
            "currency": "eur",
            "destination": advisor.id,
            "transfer_group": "payout_1",
            "metadata": {"payout_id": "1"},
        }
    )
    reversal = client.v1.transfers.reversals.create(transfer.id, params={"amount": 1000})

    assert advisor.payouts_enabled is False
    assert advisor.requirements.currently_due
    assert link.url == f"{base_url}/_sandbox/onboarding/{advisor.id}"
    onboarded = client.v1.accounts.retrieve(advisor.id)
    assert onboarded.payouts_enabled is True
    assert onboarded.requirements.currently_due == []
    updated = sandbox.events(account["account_id"], "account.updated")[0]
    assert updated["account"] == advisor.id
    assert updated["data"]["previous_attributes"]["payouts_enabled"] is False
    assert transfer.id.startswith("tr_")
    assert (transfer.destination, transfer.amount) == (advisor.id, 3000)
    assert reversal.id.startswith("trr_")
    assert client.v1.transfers.retrieve(transfer.id).amount_reversed == 1000
    platform_balance = client.v1.balance.retrieve().available[0]
    advisor_balance = client.v1.balance.retrieve(options={"stripe_account": advisor.id})
    assert (platform_balance.currency, platform_balance.amount) == ("eur", 3000)
    assert advisor_balance.available[0].amount == 2000


def test_transfer_to_an_account_not_onboarded_is_refused(client, sandbox):
    _paid_intent(client, sandbox, amount=5000)
    advisor = client.v1.accounts.create(params={"type": "express", "email": "new@aurora.test"})

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.transfers.create(
            params={"amount": 1000, "currency": "eur", "destination": advisor.id}
        )

    assert raised.value.code == "insufficient_capabilities_for_transfer"


def test_transfer_beyond_the_balance_or_to_a_stranger_is_refused(client, sandbox, base_url):
    _paid_intent(client, sandbox, amount=1000)
    advisor = _onboarded_advisor(client, sandbox)
    stranger = _onboarded_advisor(
        _client(sandbox.create_account()["secret_key"], base_url), sandbox
    )

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.transfers.create(
            params={"amount": 1001, "currency": "eur", "destination": advisor.id}
        )
    with pytest.raises(stripe.InvalidRequestError) as not_ours:
        client.v1.transfers.create(
            params={"amount": 100, "currency": "eur", "destination": stranger.id}
        )

    assert too_much.value.code == "balance_insufficient"
    assert not_ours.value.param == "destination"


# -- Webhook delivery and control endpoints -----------------------------------------------------


def test_events_are_delivered_signed_with_the_tenant_host(httpserver, sandbox, base_url):
    httpserver.expect_request("/webhooks/stripe", method="POST").respond_with_data("ok")
    account = sandbox.create_account(
        webhook_url=httpserver.url_for("/webhooks/stripe"), webhook_host="aurora.localhost"
    )
    client = _client(account["secret_key"], base_url)

    intent = client.v1.payment_intents.create(params={"amount": 700, "currency": "eur"})
    sandbox.succeed_payment_intent(intent.id)
    assert sandbox.wait_for_deliveries(timeout=10)

    received = [request for request, _ in httpserver.log]
    assert len(received) == 3
    for request in received:
        assert request.headers["Host"] == "aurora.localhost"
        assert request.headers["Content-Type"] == "application/json"
        event = stripe.Webhook.construct_event(
            request.get_data(), request.headers["Stripe-Signature"], account["webhook_secret"]
        )
        assert event.data.object.id.startswith(("pi_", "ch_"))
    assert {e["pending_webhooks"] for e in sandbox.events(account["account_id"])} == {0}


def test_synchronous_delivery_and_resend(httpserver, base_url):
    httpserver.expect_request("/webhooks/stripe", method="POST").respond_with_data("ok")
    sandbox = StripeSandbox()
    sandbox.deliver_synchronously = True
    server, url = serve(sandbox=sandbox)
    try:
        account = sandbox.create_account(webhook_url=httpserver.url_for("/webhooks/stripe"))
        intent = _client(account["secret_key"], url).v1.payment_intents.create(
            params={"amount": 700, "currency": "eur"}
        )
        assert len(httpserver.log) == 1
        event_id = sandbox.events(account["account_id"])[0]["id"]
        assert sandbox.resend_event(event_id)["status"] == 200
        assert len(httpserver.log) == 2
        assert json.loads(httpserver.log[1][0].get_data())["data"]["object"]["id"] == intent.id
    finally:
        server.shutdown()


def test_failed_delivery_is_kept_and_can_be_resent(httpserver, sandbox, base_url):
    account = sandbox.create_account(webhook_url=_closed_port_url())
    client = _client(account["secret_key"], base_url)
    client.v1.payment_intents.create(params={"amount": 700, "currency": "eur"})
    assert sandbox.wait_for_deliveries(timeout=10)
    event_id = sandbox.events(account["account_id"])[0]["id"]

    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    sandbox.update_account(account["account_id"], webhook_url=httpserver.url_for("/hook"))
    status, attempt = _http("POST", f"{base_url}/_sandbox/events/{event_id}/resend")

    _, listed = _http("GET", f"{base_url}/_sandbox/events?account={account['account_id']}")
    assert [a["status"] for a in listed["deliveries"][event_id]] == [None, 200]
    assert listed["deliveries"][event_id][0]["error"]
    assert (status, attempt["status"]) == (200, 200)
    assert listed["data"][0]["pending_webhooks"] == 0


def test_control_endpoints_over_http(base_url):
    status, account = _http(
        "POST",
        f"{base_url}/_sandbox/accounts",
        {"display_name": "Beta Guidance", "webhook_host": "beta.localhost"},
    )
    client = _client(account["secret_key"], base_url)
    intent = client.v1.payment_intents.create(params={"amount": 800, "currency": "eur"})

    _, paid = _http("POST", f"{base_url}/_sandbox/payment_intents/{intent.id}/succeed")
    _, dispute = _http("POST", f"{base_url}/_sandbox/charges/{paid['latest_charge']}/dispute")
    _, closed = _http(
        "POST", f"{base_url}/_sandbox/disputes/{dispute['id']}/close", {"status": "won"}
    )
    again, error = _http("POST", f"{base_url}/_sandbox/payment_intents/{intent.id}/succeed")
    _, listed = _http("GET", f"{base_url}/_sandbox/events?account={account['account_id']}")

    assert status == 200
    assert account["publishable_key"].startswith("pk_test_sandbox_")
    assert account["webhook_secret"].startswith("whsec_")
    assert paid["status"] == "succeeded"
    assert closed["status"] == "won"
    assert again == 400 and error["error"]["type"] == "invalid_request_error"
    assert listed["data"][0]["type"] == "charge.dispute.funds_reinstated"
    assert all(e["object"] == "event" and e["livemode"] is False for e in listed["data"])
    assert client.v1.balance.retrieve().available[0].amount == 800


def test_onboarding_form_redirects_to_the_return_url(client, sandbox, base_url):
    advisor = client.v1.accounts.create(params={"type": "express"})
    client.v1.account_links.create(
        params={
            "account": advisor.id,
            "refresh_url": "http://aurora.localhost/refresh",
            "return_url": "http://aurora.localhost/done",
            "type": "account_onboarding",
        }
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    form = urllib.request.Request(
        f"{base_url}/_sandbox/onboarding/{advisor.id}/complete?redirect=1", data=b"", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as redirected:
        opener.open(form, timeout=5)

    assert redirected.value.code == 303
    assert redirected.value.headers["Location"] == "http://aurora.localhost/done"
    assert client.v1.accounts.retrieve(advisor.id).payouts_enabled is True


def test_state_file_keeps_accounts_and_objects_across_restarts(tmp_path):
    state_file = tmp_path / "stripe.json"
    first = StripeSandbox(state_file=state_file)
    server, url = serve(sandbox=first)
    try:
        account = first.create_account(display_name="Aurora Psychics")
        intent = _client(account["secret_key"], url).v1.payment_intents.create(
            params={"amount": 600, "currency": "eur"}
        )
    finally:
        server.shutdown()

    server, url = serve(sandbox=StripeSandbox(state_file=state_file))
    try:
        found = _client(account["secret_key"], url).v1.payment_intents.retrieve(intent.id)
    finally:
        server.shutdown()
    assert found.amount == 600


# -- Billing: customers, prices, subscriptions, invoices -------------------------------------


def _customer(client, country: str = "CY") -> stripe.Customer:
    return client.v1.customers.create(
        params={
            "name": "Ada Quill",
            "email": "ada@aurora.example",
            "address": {"line1": "1 Harbour St", "city": "Limassol", "country": country},
            "metadata": {"account_holder": "1"},
        }
    )


def _monthly_price(client, amount: int = 4_900, lookup_key: str = "plan-basic") -> stripe.Price:
    return client.v1.prices.create(
        params={
            "currency": "eur",
            "unit_amount": amount,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Basic"},
            "lookup_key": lookup_key,
            "transfer_lookup_key": True,
        }
    )


def _subscribe(client, customer, price, **extra) -> stripe.Subscription:
    return client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "payment_behavior": "default_incomplete",
            "expand": ["latest_invoice"],
            **extra,
        }
    )


def _types(sandbox, account) -> list[str]:
    return [event["type"] for event in reversed(sandbox.events(account["account_id"]))]


def test_paid_subscription_starts_incomplete_until_its_first_invoice_is_paid(
    client, sandbox, account
):
    customer = _customer(client)
    price = _monthly_price(client)

    subscription = _subscribe(client, customer, price, automatic_tax={"enabled": True})
    invoice = subscription.latest_invoice

    assert subscription.status == "incomplete"
    assert invoice.status == "open" and invoice.billing_reason == "subscription_create"
    assert invoice.subtotal == 4_900 and invoice.total_taxes[0].amount == 931  # 19 % in CY
    assert invoice.total == invoice.amount_due == 5_831
    assert invoice.number.endswith("-0001")
    assert invoice.confirmation_secret.client_secret.startswith("pi_")
    assert invoice.hosted_invoice_url.endswith(f"/_sandbox/invoices/{invoice.id}")
    assert invoice.parent.subscription_details.subscription == subscription.id
    assert invoice.customer_address.country == "CY"

    sandbox.pay_invoice(invoice.id)

    assert client.v1.subscriptions.retrieve(subscription.id).status == "active"
    paid = client.v1.invoices.retrieve(invoice.id)
    assert paid.status == "paid" and paid.amount_paid == 5_831
    assert paid.status_transitions.paid_at
    types = _types(sandbox, account)
    assert types[-4:] == [
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    updated = sandbox.events(account["account_id"], "customer.subscription.updated")[0]
    assert updated["data"]["previous_attributes"] == {"status": "incomplete"}


def test_trial_subscription_is_paid_at_zero_then_bills_pending_items_next_period(
    client, sandbox, account
):
    customer = _customer(client, country="US")
    price = _monthly_price(client, amount=9_900, lookup_key="plan-pro")

    subscription = _subscribe(client, customer, price, trial_period_days=14)
    item = client.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "amount": 1_234,
            "currency": "eur",
            "description": "Revenue share",
            "period": {"start": 1_700_000_000, "end": 1_702_000_000},
            "metadata": {"licensee": "7"},
        }
    )
    renewal = sandbox.advance_subscription(subscription.id, outcome="pay")

    assert subscription.status == "trialing"
    assert subscription.latest_invoice.status == "paid"
    assert subscription.latest_invoice.amount_due == 0
    assert renewal["billing_reason"] == "subscription_cycle"
    assert renewal["subtotal"] == 9_900 + 1_234 and renewal["total_taxes"] == []
    assert renewal["status"] == "paid" and renewal["number"].endswith("-0002")
    assert [line["amount"] for line in renewal["lines"]["data"]] == [9_900, 1_234]
    assert client.v1.invoice_items.retrieve(item.id).invoice == renewal["id"]
    assert client.v1.subscriptions.retrieve(subscription.id).status == "active"


def test_declined_renewal_makes_the_subscription_past_due_and_payment_restores_it(
    client, sandbox, account
):
    subscription = _subscribe(client, _customer(client), _monthly_price(client))
    sandbox.pay_invoice(subscription.latest_invoice.id)

    renewal = sandbox.advance_subscription(subscription.id, outcome="fail")
    assert renewal["status"] == "open" and renewal["attempt_count"] == 1
    assert renewal["next_payment_attempt"] > renewal["created"]
    assert client.v1.subscriptions.retrieve(subscription.id).status == "past_due"
    failed = sandbox.events(account["account_id"], "invoice.payment_failed")[0]
    assert failed["data"]["object"]["id"] == renewal["id"]

    sandbox.pay_invoice(renewal["id"])
    assert client.v1.subscriptions.retrieve(subscription.id).status == "active"
    with pytest.raises(StripeApiError):
        sandbox.pay_invoice(renewal["id"])


def test_lookup_keys_find_one_price_and_move_only_when_asked(client):
    first = _monthly_price(client, amount=1_000, lookup_key="plan-lookup")
    second = _monthly_price(client, amount=2_000, lookup_key="plan-lookup")

    found = client.v1.prices.list(params={"lookup_keys": ["plan-lookup"]})
    assert [price.id for price in found.data] == [second.id]
    assert client.v1.prices.retrieve(first.id).lookup_key is None
    assert found.data[0].recurring.interval == "month"
    assert client.v1.products.retrieve(second.product).name == "Basic"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.prices.create(
            params={
                "currency": "eur",
                "unit_amount": 5,
                "product": second.product,
                "lookup_key": "plan-lookup",
            }
        )
    assert raised.value.param == "lookup_key"


def test_cancel_and_expire_end_subscriptions_with_their_events(client, sandbox, account):
    customer = _customer(client)
    price = _monthly_price(client)
    paid = _subscribe(client, customer, price)
    sandbox.pay_invoice(paid.latest_invoice.id)
    unpaid = _subscribe(client, customer, price)

    canceled = client.v1.subscriptions.cancel(paid.id)
    expired = sandbox.expire_subscription(unpaid.id)

    assert canceled.status == "canceled" and canceled.canceled_at
    deleted = sandbox.events(account["account_id"], "customer.subscription.deleted")[0]
    assert deleted["data"]["object"]["id"] == paid.id
    assert expired["status"] == "incomplete_expired"
    assert client.v1.invoices.retrieve(unpaid.latest_invoice.id).status == "void"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.cancel(paid.id)
    with pytest.raises(StripeApiError):
        sandbox.advance_subscription(paid.id)


def test_a_customer_keeps_one_currency(client):
    customer = _customer(client)
    _subscribe(client, customer, _monthly_price(client))

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.invoice_items.create(
            params={"customer": customer.id, "amount": 100, "currency": "usd"}
        )
    assert raised.value.param == "currency"


def test_hosted_invoice_page_pays_over_http(client, base_url):
    subscription = _subscribe(client, _customer(client), _monthly_price(client))
    invoice_id = subscription.latest_invoice.id

    with urllib.request.urlopen(f"{base_url}/_sandbox/invoices/{invoice_id}", timeout=5) as page:
        assert b"Pay" in page.read()
    status, paid = _http("POST", f"{base_url}/_sandbox/invoices/{invoice_id}/pay")
    again, error = _http("POST", f"{base_url}/_sandbox/invoices/{invoice_id}/fail")

    assert status == 200 and paid["status"] == "paid"
    assert again == 400 and error["error"]["code"] == "invoice_not_open"
    assert client.v1.subscriptions.retrieve(subscription.id).status == "active"
    # A readable page that, once settled, tells the payer how to go back.
    with urllib.request.urlopen(f"{base_url}/_sandbox/invoices/{invoice_id}", timeout=5) as page:
        settled = page.read().decode()
    assert "<style>" in settled and "Status: <strong>paid</strong>" in settled
    assert "return to the page you came from" in settled and "<button" not in settled


def test_connect_events_go_only_to_the_connect_endpoint_signed_with_its_own_secret(
    httpserver, sandbox, base_url
):
    httpserver.expect_request("/webhooks/stripe", method="POST").respond_with_data("ok")
    httpserver.expect_request("/webhooks/stripe/connect", method="POST").respond_with_data("ok")
    account = sandbox.create_account(
        webhook_url=httpserver.url_for("/webhooks/stripe"),
        connect_webhook_url=httpserver.url_for("/webhooks/stripe/connect"),
    )
    assert account["connect_webhook_secret"].startswith("whsec_")
    assert account["connect_webhook_secret"] != account["webhook_secret"]
    client = _client(account["secret_key"], base_url)
    advisor = client.v1.accounts.create(params={"type": "express", "email": "a@example.test"})
    sandbox.complete_onboarding(advisor.id)
    assert sandbox.wait_for_deliveries(timeout=10)

    received = {request.path: request for request, _ in httpserver.log}
    assert set(received) == {"/webhooks/stripe/connect"}  # creating an account sends nothing
    request = received["/webhooks/stripe/connect"]
    body, signature = request.get_data(), request.headers["Stripe-Signature"]
    event = stripe.Webhook.construct_event(body, signature, account["connect_webhook_secret"])
    assert (event.type, event.account) == ("account.updated", advisor.id)
    assert event.data.object.id == advisor.id and event.data.object.payouts_enabled is True
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, signature, account["webhook_secret"])
    # The platform's own events still go to the account endpoint only, without `account`.
    intent = client.v1.payment_intents.create(params={"amount": 700, "currency": "eur"})
    sandbox.succeed_payment_intent(intent.id)
    assert sandbox.wait_for_deliveries(timeout=10)
    own = [r for r, _ in httpserver.log if r.path == "/webhooks/stripe"]
    assert own and all("account" not in json.loads(r.get_data()) for r in own)
    assert len([r for r, _ in httpserver.log if r.path == "/webhooks/stripe/connect"]) == 1


def test_a_connected_account_carries_the_fields_stripe_documents(client):
    advisor = client.v1.accounts.create(params={"type": "express"}).to_dict()
    for field in (
        "business_profile",
        "capabilities",
        "charges_enabled",
        "country",
        "created",
        "default_currency",
        "details_submitted",
        "external_accounts",
        "future_requirements",
        "metadata",
        "payouts_enabled",
        "requirements",
        "settings",
        "tos_acceptance",
        "type",
    ):
        assert field in advisor, field
    assert advisor["external_accounts"]["url"] == f"/v1/accounts/{advisor['id']}/external_accounts"
    assert set(advisor["requirements"]) >= {
        "alternatives",
        "currently_due",
        "disabled_reason",
        "errors",
        "eventually_due",
        "past_due",
        "pending_verification",
    }
