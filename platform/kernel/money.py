"""Integer minor units with their ISO-4217 currency; formatting for people."""

from __future__ import annotations

# Currencies whose minor unit is not the cent (ISO 4217 exponents).
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "HUF": 2, "BHD": 3, "KWD": 3, "JOD": 3, "TND": 3}
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF ", "SEK": "SEK "}


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def format_minor(amount_minor: int, currency: str, *, code: bool = False) -> str:
    """2000, "EUR" -> "€20.00"; -317, "EUR" -> "-€3.17"; with `code`, "20.00 EUR"."""
    digits = exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**digits)
    number = f"{whole}.{fraction:0{digits}d}" if digits else str(whole)
    if code:
        return f"{sign}{number} {currency.upper()}"
    symbol = _SYMBOLS.get(currency.upper(), f"{currency.upper()} ")
    return f"{sign}{symbol}{number}"
