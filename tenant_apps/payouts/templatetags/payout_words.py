"""Payout statuses and schedules in the reader's language, for the dashboard and the advisor
console (the stored values are English codes)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

register = template.Library()

STATUS = {
    "pending": pgettext_lazy("payout status", "Pending"),
    "paid": pgettext_lazy("payout status", "Paid"),
    "failed": pgettext_lazy("payout status", "Failed"),
    "reversed": pgettext_lazy("payout status", "Reversed"),
}
SCHEDULE = {"daily": _("daily"), "weekly": _("weekly"), "monthly": _("monthly")}


@register.filter
def payout_status(value: str) -> str:
    return str(STATUS.get(value, value))


@register.filter
def payout_schedule(value: str) -> str:
    return str(SCHEDULE.get(value, value))
