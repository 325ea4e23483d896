"""Integer minor units with their ISO-4217 currency; the one place amounts are converted.

`CURRENCIES` lists the ISO 4217 currencies Stripe supports for payments, each with the number
of minor-unit digits Stripe's API amounts carry (docs.stripe.com/currencies): two unless
listed as zero-decimal or three-decimal there. Every amount a person types or reads (forms,
CSV, e-mails, receipts, the API's display fields) goes through `parse_major`, `major_text` or
`format_minor` here, so no screen divides by 100 on its own.

Left out on purpose: ISK, which Stripe treats as zero-decimal while its API still expects two
decimals (amounts divisible by 100), so its books and Stripe's amounts would differ by a
factor. Three-decimal currencies are supported, but Stripe's payment intents, refunds and
disputes need their last digit to be 0 (`stripe_step`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from kernel.errors import DomainError


@dataclass(frozen=True)
class Currency:
    code: str
    digits: int  # minor-unit digits: 2 for EUR (cents), 0 for JPY, 3 for KWD
    # Stripe's charges and refunds accept only multiples of this many minor units.
    stripe_step: int = 1


class UnsupportedCurrency(DomainError):
    status_code = 422
    code = "unsupported_currency"


class InvalidMoney(DomainError):
    status_code = 422
    code = "invalid_amount"


_ZERO_DECIMAL = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF"
_THREE_DECIMAL = "BHD JOD KWD OMR TND"
_TWO_DECIMAL = (
    "USD AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BWP BYN "
    "BZD CAD CDF CHF CNY COP CRC CVE CZK DKK DOP DZD EGP ETB EUR FJD FKP GBP GEL GIP GMD GTQ "
    "GYD HKD HNL HTG HUF IDR ILS INR JMD KES KGS KHR KYD KZT LAK LBP LKR LRD LSL MAD MDL MKD "
    "MMK MNT MOP MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR "
    "RON RSD RUB SAR SBD SCR SEK SGD SHP SLE SOS SRD STD SZL THB TJS TOP TRY TTD TWD TZS UAH "
    "UYU UZS WST XCD YER ZAR ZMW"
)

CURRENCIES: dict[str, Currency] = {
    **{code: Currency(code, 2) for code in _TWO_DECIMAL.split()},
    **{code: Currency(code, 0) for code in _ZERO_DECIMAL.split()},
    **{code: Currency(code, 3, stripe_step=10) for code in _THREE_DECIMAL.split()},
}

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF ", "SEK": "SEK "}


def is_supported(code: str) -> bool:
    return code in CURRENCIES


def currency_get(code: str) -> Currency:
    """The supported currency with this code (upper case), or `UnsupportedCurrency`."""
    found = CURRENCIES.get(code or "")
    if found is None:
        raise UnsupportedCurrency(
            f"{code or 'This'} is not a currency payments can be taken in; use an ISO 4217 code "
            "Stripe supports, such as EUR, USD, GBP or JPY.",
            field="currency",
        )
    return found


def exponent(currency: str) -> int:
    """Minor-unit digits of `currency`. Licensee currencies are validated on entry, so an
    unknown code here is old or foreign data: it reads as two digits rather than failing."""
    found = CURRENCIES.get(currency.upper())
    return found.digits if found else 2


def major_text(amount_minor: int, currency: str) -> str:
    """The plain decimal an amount is typed and exported as: 500 JPY -> "500", 2050 EUR ->
    "20.50", 5120 KWD -> "5.120"; exact for any integer."""
    digits = exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**digits)
    return f"{sign}{whole}.{fraction:0{digits}d}" if digits else f"{sign}{whole}"


def major_decimal(amount_minor: int, currency: str) -> Decimal:
    """The amount in major units as an exact Decimal (for charts and sums shown to people)."""
    return Decimal(major_text(amount_minor, currency))


def parse_major(text: str, currency: str, *, field: str = "amount") -> int:
    """A typed amount ("20", "20.5", "20,50", "500") to minor units of `currency`, refusing
    more decimals than the currency has (code `amount_precision`; no rounding: ¥500 stays
    500, never 5)."""
    digits = exponent(currency)
    cleaned = (text or "").strip().replace(" ", "").replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidMoney("Enter an amount such as 20.", field=field) from None
    if not amount.is_finite():
        raise InvalidMoney("Enter an amount such as 20.", field=field)
    minor = amount.scaleb(digits)
    if minor != minor.to_integral_value():
        detail = (
            f"{currency} amounts have at most {digits} decimals."
            if digits
            else f"{currency} amounts are whole numbers."
        )
        raise InvalidMoney(detail, field=field, code="amount_precision")
    return int(minor)


def stripe_amount_ok(amount_minor: int, currency: str) -> bool:
    """Whether Stripe accepts this amount for a charge or refund in `currency`."""
    found = CURRENCIES.get(currency.upper())
    return found is None or amount_minor % found.stripe_step == 0


def format_minor(amount_minor: int, currency: str, *, code: bool = False) -> str:
    """2000, "EUR" -> "€20.00"; -317, "EUR" -> "-€3.17"; with `code`, "20.00 EUR"."""
    number = major_text(abs(amount_minor), currency)
    sign = "-" if amount_minor < 0 else ""
    if code:
        return f"{sign}{number} {currency.upper()}"
    symbol = _SYMBOLS.get(currency.upper(), f"{currency.upper()} ")
    return f"{sign}{symbol}{number}"
