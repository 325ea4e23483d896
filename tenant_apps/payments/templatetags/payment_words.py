"""Top-up statuses in the reader's language, for the dashboard (stored as English codes)."""

from __future__ import annotations

from django import template
from django.utils.translation import pgettext_lazy

register = template.Library()

STATUS = {
    "pending": pgettext_lazy("top-up status", "Pending"),
    "succeeded": pgettext_lazy("top-up status", "Paid"),
    "failed": pgettext_lazy("top-up status", "Declined"),
    "canceled": pgettext_lazy("top-up status", "Cancelled"),
}


@register.filter
def topup_status(value: str) -> str:
    return str(STATUS.get(value, value))
