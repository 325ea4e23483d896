"""The offline demo's stand-ins for what a browser cannot do against the local sandboxes: pay
a top-up with a test card (no Stripe.js there) and join a call's room (no media there). Only
the user's own top-ups and calls, and only while the sandboxes are what is connected."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tenant_apps.calls import livekit_gateway
from tenant_apps.calls import services as call_services
from tenant_apps.payments import stripe_gateway
from tenant_apps.payments.errors import NotASandbox
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import make_advisor, make_caller
from tests.tenant_apps.payments.conftest import connect_to_sandbox

pytestmark = pytest.mark.django_db


def _token(api, slug: str, email: str) -> str:
    response = api(slug).post("/api/v1/auth/token", {"email": email, "password": PASSWORD})
    return response.json()["access"]


@pytest.fixture
def topup_world(alpha, beta, stripe, api):
    creds = connect_to_sandbox(stripe, alpha)
    with schema_context("alpha"):
        connection.tenant = alpha
        make_caller("casey@example.test", credit_minor=0)
        make_caller("other@example.test", credit_minor=0)
    with schema_context("beta"):
        connection.tenant = beta
        make_caller("casey@example.test", credit_minor=0)
    connection.set_schema_to_public()
    caller = _token(api, "alpha", "casey@example.test")
    topup = api("alpha").post("/api/v1/wallet/topups", {"amount": 1500}, token=caller).json()
    return {"creds": creds, "caller": caller, "topup": topup}


def test_the_test_card_pays_a_pending_topup_through_the_sandbox(topup_world, api, stripe):
    world = topup_world
    assert world["topup"]["publishable_key"].startswith("pk_test_sandbox_")
    url = f"/api/v1/wallet/topups/{world['topup']['id']}/sandbox/pay"
    paid = api("alpha").post(url, {"succeed": True}, token=world["caller"])
    assert paid.status_code == 200, paid.content
    events = stripe.events(world["creds"]["account_id"], "payment_intent.succeeded")
    assert [e["data"]["object"]["id"] for e in events] == [world["topup"]["payment_intent"]]


def test_a_declined_test_card_fails_the_payment(topup_world, api, stripe):
    url = f"/api/v1/wallet/topups/{topup_world['topup']['id']}/sandbox/pay"
    assert (
        api("alpha").post(url, {"succeed": False}, token=topup_world["caller"]).status_code == 200
    )
    account = topup_world["creds"]["account_id"]
    assert stripe.events(account, "payment_intent.succeeded") == []
    assert stripe.events(account, "payment_intent.payment_failed")


def test_only_the_owner_of_a_topup_may_pay_it_and_never_from_another_licensee(topup_world, api):
    url = f"/api/v1/wallet/topups/{topup_world['topup']['id']}/sandbox/pay"
    other = _token(api, "alpha", "other@example.test")
    refused = api("alpha").post(url, {"succeed": True}, token=other)
    assert refused.status_code == 404 and refused.json()["field"] == "topup_id"
    at_beta = _token(api, "beta", "casey@example.test")
    assert api("beta").post(url, {"succeed": True}, token=at_beta).status_code == 404
    stolen = api("beta").post(url, {"succeed": True}, token=topup_world["caller"])
    assert stolen.status_code == 401


def test_bad_input_names_the_field(topup_world, api):
    url = f"/api/v1/wallet/topups/{topup_world['topup']['id']}/sandbox/pay"
    bad = api("alpha").post(url, {"succeed": "perhaps"}, token=topup_world["caller"])
    assert bad.status_code == 422 and bad.json()["field"] == "succeed"


def test_real_stripe_keys_are_never_sent_to_the_sandbox(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    with pytest.raises(NotASandbox):
        stripe_gateway.sandbox_card_payment(
            secret_key="sk_live_51Hreal", payment_intent_id="pi_1", succeed=True
        )


@pytest.fixture
def call_world(alpha, beta, api, livekit):
    with schema_context("alpha"):
        connection.tenant = alpha
        advisor = make_advisor("luna@example.test")
        caller = make_caller("casey@example.test")
        make_caller("other@example.test")
        call = call_services.call_request(caller=caller, advisor_id=advisor.pk)
        call_services.call_accept(user=advisor.user, call_id=call.pk)
    with schema_context("beta"):
        connection.tenant = beta
        make_caller("casey@example.test")
    connection.set_schema_to_public()
    return {
        "call": call,
        "caller": caller,
        "url": f"/api/v1/calls/{call.pk}/sandbox/presence",
        "token": _token(api, "alpha", "casey@example.test"),
    }


def test_joining_in_the_sandbox_connects_with_the_partys_own_pass(call_world, api, livekit):
    world = call_world
    joined = api("alpha").post(world["url"], {"present": True}, token=world["token"])
    assert joined.status_code == 204, joined.content
    identity = call_services.identity_of(world["caller"].pk)
    assert livekit.participants(world["call"].room_name) == [identity]
    left = api("alpha").post(world["url"], {"present": False}, token=world["token"])
    assert left.status_code == 204
    assert livekit.participants(world["call"].room_name) == []


def test_only_the_calls_parties_may_join_it_and_nobody_from_another_licensee(call_world, api):
    other = _token(api, "alpha", "other@example.test")
    refused = api("alpha").post(call_world["url"], {"present": True}, token=other)
    assert refused.status_code == 404 and refused.json()["code"] == "call_not_found"
    at_beta = _token(api, "beta", "casey@example.test")
    assert api("beta").post(call_world["url"], {"present": True}, token=at_beta).status_code == 404
    bad = api("alpha").post(call_world["url"], {}, token=call_world["token"])
    assert bad.status_code == 422 and bad.json()["field"] == "present"


def test_with_a_real_livekit_the_stand_in_is_refused(call_world, api, settings):
    settings.LIVEKIT_API_SECRET = "a-real-livekit-secret-of-at-least-32-chars"
    assert not livekit_gateway.is_sandbox()
    refused = api("alpha").post(call_world["url"], {"present": True}, token=call_world["token"])
    assert refused.status_code == 409 and refused.json()["code"] == "not_sandbox"


def test_the_call_screen_allows_livekit_only_with_a_real_livekit(call_world, settings):
    from tests.tenant_apps.webapp.conftest import client_for

    client = client_for("alpha", call_world["caller"])
    sandbox_page = client.get(f"/calls/{call_world['call'].pk}/")
    assert sandbox_page.status_code == 200
    assert "ws://" not in sandbox_page["Content-Security-Policy"]
    settings.LIVEKIT_API_SECRET = "a-real-livekit-secret-of-at-least-32-chars"
    settings.LIVEKIT_URL = "wss://voice.example.com"
    real_page = client.get(f"/calls/{call_world['call'].pk}/")
    policy = dict(p.split(" ", 1) for p in real_page["Content-Security-Policy"].split("; "))
    assert "wss://voice.example.com" in policy["connect-src"]
    assert "https://js.stripe.com" not in policy["script-src"]


def test_the_wallet_loads_stripe_js_only_for_real_stripe_keys(topup_world, alpha):
    from tenant_apps.payments.models import StripeConnection
    from tests.tenant_apps.webapp.conftest import client_for

    with schema_context("alpha"):
        from identity.models import User

        caller = User.objects.get(email="casey@example.test")
    client = client_for("alpha", caller)
    page = client.get("/wallet/")
    assert "js.stripe.com" not in page["Content-Security-Policy"]
    assert '"sandbox": true' in page.content.decode()
    with schema_context("alpha"):
        StripeConnection.objects.update(publishable_key="pk_live_51Hreal")
    page = client.get("/wallet/")
    policy = dict(p.split(" ", 1) for p in page["Content-Security-Policy"].split("; "))
    assert "https://js.stripe.com" in policy["script-src"]
    assert "https://js.stripe.com" in policy["frame-src"]
    assert '"sandbox": false' in page.content.decode()
