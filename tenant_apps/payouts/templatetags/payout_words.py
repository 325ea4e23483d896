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
# Why a payout failed, for the reasons that are ours (`transfers.blocked_reason`; the stored
# reason is English). Stripe's own refusals are shown in Stripe's words.
FAILURE = {
    "not_onboarded": _("The advisor has not set up payouts with Stripe yet."),
    "payouts_disabled": _("Stripe has not enabled payouts for this account."),
    "held": _("Payouts are held by the licensee: %(note)s"),
}


@register.filter
def payout_status(value: str) -> str:
    return str(STATUS.get(value, value))


@register.filter
def payout_schedule(value: str) -> str:
    return str(SCHEDULE.get(value, value))


@register.filter
def payout_failure(payout) -> str:
    """{{ payout|payout_failure }}: why it failed, in the reader's language where it can be."""
    known = FAILURE.get(payout.failure_code)
    if known is None:
        return str(payout.failure_reason)
    # A hold's note is the licensee's own words, after the stored sentence's colon.
    note = payout.failure_reason.split(": ", 1)[1] if ": " in payout.failure_reason else ""
    return str(known) % {"note": note} if payout.failure_code == "held" else str(known)
