"""Money, numbers, dates and times as a reader expects them: in their locale (language and the
licensee's region, "de", "en_GB") and time zone, by Babel's CLDR data. The one helper behind
the pages' template tags, the e-mails, the CSV downloads and the API's texts.

Currencies keep their ISO 4217 minor digits (`kernel.money.exponent`), not the locale's
default of two: ¥500, 12,345 KWD."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_skeleton, format_time
from babel.numbers import NumberPattern, format_decimal, parse_pattern

from kernel.money import exponent


@lru_cache(maxsize=64)
def locale_code(language: str, region: str = "") -> str:
    """ "en" + "GB" -> "en_GB"; a pair CLDR does not know ("de" + "GB") -> "de"."""
    language = (language or "en").replace("-", "_").split("_")[0].lower()
    region = (region or "").upper()
    if region:
        try:
            Locale.parse(f"{language}_{region}")
            return f"{language}_{region}"
        except (UnknownLocaleError, ValueError):
            pass
    try:
        Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return "en"
    return language


@lru_cache(maxsize=64)
def _currency_pattern(locale: str, digits: int) -> NumberPattern:
    pattern = copy.copy(parse_pattern(Locale.parse(locale).currency_formats["standard"].pattern))
    pattern.frac_prec = (digits, digits)
    return pattern


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def valid_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Formats:
    """How one reader sees things: `Formats("de", "Europe/Berlin", "EUR").money(8223)` is
    "82,23 €"."""

    locale: str = "en"
    time_zone: str = "UTC"
    currency: str = "EUR"
    currency_code: bool = False  # "82.23 EUR" instead of the symbol

    def money(self, amount_minor: int, currency: str | None = None) -> str:
        code = (currency or self.currency).upper()
        digits = exponent(code)
        value = Decimal(int(amount_minor)).scaleb(-digits)
        if self.currency_code:
            number = format_decimal(
                value, format=f"#,##0{'.' + '0' * digits if digits else ''}", locale=self.locale
            )
            return f"{number} {code}"
        pattern = _currency_pattern(self.locale, digits)
        return str(
            pattern.apply(value, Locale.parse(self.locale), currency=code, currency_digits=False)
        )

    def number(self, value: int | float | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def local(self, moment: dt.datetime) -> dt.datetime:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        return aware.astimezone(_zone(self.time_zone))

    def datetime(self, moment: dt.datetime, length: str = "short") -> str:
        """06/12/2026, 05:29 for en_GB; 06.12.26, 05:29 for de."""
        return format_datetime(moment, length, tzinfo=_zone(self.time_zone), locale=self.locale)

    def date(self, day: dt.date | dt.datetime, length: str = "medium") -> str:
        if isinstance(day, dt.datetime):
            day = self.local(day).date()
        return format_date(day, length, locale=self.locale)

    def time(self, moment: dt.datetime, length: str = "short") -> str:
        return format_time(moment, length, tzinfo=_zone(self.time_zone), locale=self.locale)

    def slot(self, moment: dt.datetime, time_zone: str | None = None) -> str:
        """A bookable slot with its weekday, on the wall clock of `time_zone` (the advisor's)
        or the reader's: "Mon 7 Dec, 10:00" in en_GB, "Mo., 7. Dez., 10:00" in de."""
        zone = _zone(time_zone or self.time_zone)
        aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        day = format_skeleton("MMMEd", aware.astimezone(zone).date(), locale=self.locale)
        return f"{day}, {format_time(aware, 'short', tzinfo=zone, locale=self.locale)}"

    def month_day(self, day: dt.date | dt.datetime) -> str:
        """A chart's day: "6 Dec" in en_GB, "6. Dez." in de."""
        if isinstance(day, dt.datetime):
            day = self.local(day).date()
        return format_skeleton("MMMd", day, locale=self.locale)

    # A spreadsheet reads the CSV downloads: values it parses in the reader's own locale, in
    # the licensee's time zone, with no currency symbol or grouping that would make text of
    # a number.

    def spreadsheet_amount(self, amount_minor: int, currency: str | None = None) -> str:
        """3.17 in en, 3,17 in de, 500 for ¥500, 12,345 for KWD in de: the currency's digits
        with the locale's decimal mark."""
        digits = exponent((currency or self.currency).upper())
        value = Decimal(int(amount_minor)).scaleb(-digits)
        pattern = f"0.{'0' * digits}" if digits else "0"
        return format_decimal(value, format=pattern, locale=self.locale)

    def spreadsheet_number(self, value: int | float | Decimal) -> str:
        """3.6 in en, 3,6 in de: the locale's decimal mark, no grouping."""
        return format_decimal(value, format="0.###", locale=self.locale)

    def spreadsheet_moment(self, moment: dt.datetime) -> str:
        """2026-12-06 06:29 for 05:29 UTC in Berlin: the reader's wall clock."""
        return format_datetime(
            moment, "yyyy-MM-dd HH:mm", tzinfo=_zone(self.time_zone), locale=self.locale
        )

    def spreadsheet_day(self, day: dt.date | dt.datetime) -> str:
        """2026-12-06, the day in the reader's time zone."""
        if isinstance(day, dt.datetime):
            day = self.local(day).date()
        return day.isoformat()
