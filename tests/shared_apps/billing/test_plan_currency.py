"""A plan's currency, which its licensees inherit, must be one Stripe takes payments in."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from shared_apps.billing.models import Plan


@pytest.mark.parametrize("code", ["EUR", "GBP", "USD", "JPY", "KWD"])
def test_a_plan_in_a_currency_stripe_supports_is_valid(code):
    Plan(code="p", name="P", monthly_fee_minor=1_000, currency=code).clean()


@pytest.mark.parametrize("code", ["ISK", "XYZ"])
def test_a_plan_in_another_currency_is_refused_at_its_field(code):
    with pytest.raises(ValidationError) as refused:
        Plan(code="p", name="P", monthly_fee_minor=1_000, currency=code).clean()
    assert "currency" in refused.value.message_dict
