"""Money, numbers, dates and times in the reader's locale and time zone (Babel), currencies by
their ISO 4217 minor digits."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kernel.formatting import Formats, locale_code, valid_time_zone

MOMENT = datetime(2026, 12, 6, 5, 29, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "currency", "amount", "shown"),
    [
        ("en", "EUR", 8_223, "€82.23"),
        ("de", "EUR", 8_223, "82,23\xa0€"),
        ("en", "EUR", -317, "-€3.17"),
        ("en_GB", "GBP", 123_456, "£1,234.56"),
        ("de", "EUR", 123_456, "1.234,56\xa0€"),
        ("en", "JPY", 500, "¥500"),  # zero-decimal: minor units are yen
        ("de", "KWD", 12_345, "12,345\xa0KWD"),  # three digits
    ],
)
def test_money_follows_the_locale_and_the_currency_digits(locale, currency, amount, shown):
    assert Formats(locale=locale, currency=currency).money(amount) == shown


def test_money_by_code_for_brands_that_show_codes():
    assert Formats(locale="de", currency="EUR", currency_code=True).money(8_223) == "82,23 EUR"
    assert Formats(locale="en", currency="JPY", currency_code=True).money(1_500) == "1,500 JPY"


def test_dates_and_times_in_the_readers_locale_and_zone():
    uk = Formats(locale="en_GB", time_zone="Europe/London")
    assert uk.datetime(MOMENT) == "06/12/2026, 05:29"
    berlin = Formats(locale="de", time_zone="Europe/Berlin")
    assert berlin.datetime(MOMENT) == "06.12.26, 06:29"
    assert berlin.date(MOMENT) == "06.12.2026"
    assert Formats(locale="en_GB").date(date(2026, 12, 6)) == "6 Dec 2026"
    assert berlin.number(1234.5) == "1.234,5"


def test_a_slot_reads_on_the_advisors_wall_clock_with_its_weekday():
    slot = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # ten in Berlin
    assert Formats(locale="en_GB").slot(slot, "Europe/Berlin") == "Mon 7 Dec, 10:00"
    assert Formats(locale="de").slot(slot, "Europe/Berlin") == "Mo., 7. Dez., 10:00"
    # Without the advisor's zone, the reader's own.
    assert Formats(locale="en_GB", time_zone="UTC").slot(slot) == "Mon 7 Dec, 09:00"


def test_locale_codes_fall_back_to_the_language():
    assert locale_code("en", "GB") == "en_GB"
    assert locale_code("de", "GB") == "de"  # CLDR has no German for Britain
    assert locale_code("de-at", "") == "de"
    assert locale_code("xx", "") == "en"
    assert valid_time_zone("Europe/London") and not valid_time_zone("Mars/Olympus")
