"""Template tags that show money, numbers and times as the host's brand's people read them:
the active language with the brand's region and time zone (kernel.formatting, Babel)."""

from __future__ import annotations

from datetime import date, datetime

from django import template

from branding.selectors import BrandView, brand_current
from kernel.formatting import Formats

register = template.Library()


def _brand(context) -> BrandView:
    request = context.get("request")
    return getattr(request, "brand", None) or brand_current()


def _formats(context) -> Formats:
    return _brand(context).formats()


@register.simple_tag(takes_context=True)
def money(context, amount_minor: int) -> str:
    """{% money amount_minor %}: an amount as the host's brand shows money."""
    return _brand(context).money(int(amount_minor))


@register.simple_tag(takes_context=True)
def when(context, moment: datetime | None, length: str = "short") -> str:
    """{% when call.created_at %}: a date and time ("06/12/2026, 05:29" in en_GB)."""
    return _formats(context).datetime(moment, length) if moment else ""


@register.simple_tag(takes_context=True)
def slot(context, moment: datetime | None, time_zone: str = "") -> str:
    """{% slot booking.starts_at advisor_zone %}: a bookable time with its weekday, on the
    advisor's wall clock ("Mon 7 Dec, 10:00")."""
    return _formats(context).slot(moment, time_zone or None) if moment else ""


@register.simple_tag(takes_context=True)
def day(context, value: date | datetime | None, length: str = "medium") -> str:
    """{% day payout.period_start %}: a date ("6 Dec 2026")."""
    return _formats(context).date(value, length) if value else ""


@register.simple_tag(takes_context=True)
def month_day(context, value: date | datetime | None) -> str:
    """{% month_day row.day %}: a chart's day ("6 Dec", "6. Dez.")."""
    return _formats(context).month_day(value) if value else ""


@register.simple_tag(takes_context=True)
def number(context, value: int | float | None) -> str:
    """{% number 1234.5 %}: "1,234.5" / "1.234,5"."""
    return _formats(context).number(value) if value is not None else ""
