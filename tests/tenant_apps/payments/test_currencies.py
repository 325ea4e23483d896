"""Top-ups in zero- and three-decimal currencies: amounts reach Stripe in the currency's own
minor units, and a three-decimal amount Stripe would refuse is refused before it is sent."""

from __future__ import annotations

import pytest
import stripe as stripe_sdk
from django.conf import settings
from django_tenants.utils import schema_context

from branding.selectors import brand_cache
from tenant_apps.payments.models import TopUp
from tenants.routing import invalidate_hosts
from tests.tenant_apps.payments.test_topups import _pay, _topup, _wallet

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _currency_restored(alpha):
    """The licensee object is shared by the whole session: put its currency back (the
    database's change is rolled back) and drop what the caches kept of the test's."""
    original = alpha.currency
    yield
    alpha.currency = original
    invalidate_hosts()
    brand_cache.invalidate()


def _in_currency(licensee, code: str) -> None:
    licensee.currency = code
    licensee.save(update_fields=["currency"])
    invalidate_hosts()
    brand_cache.invalidate()


@pytest.mark.parametrize(("code", "amount"), [("JPY", 500), ("KWD", 5_120), ("GBP", 2_050)])
def test_a_topup_is_charged_and_credited_in_the_currencys_minor_units(
    api, tokens, stripe, alpha_stripe, alpha, code, amount
):
    _in_currency(alpha, code)
    response = _topup(api, tokens["caller"], amount=amount)
    assert response.status_code == 201, response.content
    assert response.json()["currency"] == code
    client = stripe_sdk.StripeClient(
        alpha_stripe["secret_key"], base_addresses={"api": settings.STRIPE_API_BASE}
    )
    intent = client.v1.payment_intents.retrieve(response.json()["payment_intent"])
    assert (intent.amount, intent.currency) == (amount, code.lower())
    _pay(api, stripe, alpha_stripe, response.json()["id"])
    assert _wallet(api, tokens["caller"])["available"] == amount


def test_a_three_decimal_amount_not_in_tens_is_refused_before_stripe(
    api, tokens, stripe, alpha_stripe, alpha
):
    _in_currency(alpha, "KWD")
    response = _topup(api, tokens["caller"], amount=5_125)
    assert response.status_code == 422
    assert response.json()["field"] == "amount"
    assert "KWD0.010" in response.json()["detail"]  # CLDR: the code, then the amount
    with schema_context("alpha"):
        assert not TopUp.objects.exists()


def test_the_stripe_stand_in_refuses_three_decimal_amounts_not_in_tens(stripe, alpha_stripe):
    client = stripe_sdk.StripeClient(
        alpha_stripe["secret_key"], base_addresses={"api": settings.STRIPE_API_BASE}
    )
    with pytest.raises(stripe_sdk.InvalidRequestError) as refused:
        client.v1.payment_intents.create(params={"amount": 5_125, "currency": "kwd"})
    assert refused.value.param == "amount"
    assert client.v1.payment_intents.create(params={"amount": 5_120, "currency": "kwd"}).amount == (
        5_120
    )
