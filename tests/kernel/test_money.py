"""kernel.money: the currency table Stripe supports and the one conversion for amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kernel import money
from kernel.money import InvalidMoney, UnsupportedCurrency


@pytest.mark.parametrize(
    ("code", "digits", "step"),
    [("EUR", 2, 1), ("GBP", 2, 1), ("USD", 2, 1), ("JPY", 0, 1), ("KRW", 0, 1), ("KWD", 3, 10)],
)
def test_the_table_knows_each_currencys_digits_and_stripes_step(code, digits, step):
    currency = money.currency_get(code)
    assert (currency.digits, currency.stripe_step) == (digits, step)
    assert money.exponent(code) == digits


@pytest.mark.parametrize("code", ["XYZ", "ISK", "eur", "", "EURO"])
def test_codes_stripe_does_not_take_as_such_are_refused(code):
    assert not money.is_supported(code)
    with pytest.raises(UnsupportedCurrency) as refused:
        money.currency_get(code)
    assert refused.value.field == "currency"


@pytest.mark.parametrize(
    ("text", "code", "minor"),
    [
        ("20", "EUR", 2_000),
        ("20,5", "EUR", 2_050),
        ("0.01", "GBP", 1),
        ("1 234.56", "USD", 123_456),
        ("500", "JPY", 500),
        ("5.125", "KWD", 5_125),
        ("0.1", "KWD", 100),
    ],
)
def test_typed_amounts_become_exact_minor_units(text, code, minor):
    assert money.parse_major(text, code) == minor
    # And back: what a form shows is what it parses again.
    assert money.parse_major(money.major_text(minor, code), code) == minor


@pytest.mark.parametrize(
    ("text", "code", "error_code"),
    [
        ("5.5", "JPY", "amount_precision"),
        ("0.001", "EUR", "amount_precision"),
        ("1.0001", "KWD", "amount_precision"),
        ("abc", "EUR", "invalid_amount"),
        ("NaN", "EUR", "invalid_amount"),
        ("Infinity", "USD", "invalid_amount"),
    ],
)
def test_amounts_with_more_digits_than_the_currency_are_refused_not_rounded(text, code, error_code):
    with pytest.raises(InvalidMoney) as refused:
        money.parse_major(text, code)
    assert refused.value.code == error_code


@pytest.mark.parametrize(
    ("minor", "code", "text", "shown"),
    [
        (2_050, "EUR", "20.50", "€20.50"),
        (-317, "EUR", "-3.17", "-€3.17"),
        (500, "JPY", "500", "¥500"),
        (5_120, "KWD", "5.120", "KWD 5.120"),
        (7, "GBP", "0.07", "£0.07"),
    ],
)
def test_amounts_are_shown_with_the_currencys_own_digits(minor, code, text, shown):
    assert money.major_text(minor, code) == text
    assert money.format_minor(minor, code) == shown
    assert money.major_decimal(minor, code) == Decimal(text)


def test_stripe_takes_three_decimal_amounts_only_in_tens():
    assert money.stripe_amount_ok(5_120, "KWD")
    assert not money.stripe_amount_ok(5_125, "KWD")
    assert money.stripe_amount_ok(5_125, "EUR")
    assert money.stripe_amount_ok(7, "JPY")
