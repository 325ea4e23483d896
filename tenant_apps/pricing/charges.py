"""The arithmetic of a call's charge, kept pure so it can be checked exhaustively."""

from __future__ import annotations

from dataclasses import dataclass

from tenant_apps.pricing.models import PricingPolicy


@dataclass(frozen=True)
class Split:
    advisor_minor: int
    licensee_minor: int
    callrix_minor: int

    @property
    def total_minor(self) -> int:
        return self.advisor_minor + self.licensee_minor + self.callrix_minor


def billable_seconds(*, talk_seconds: int, free_seconds: int) -> int:
    return max(0, talk_seconds - free_seconds)


def charge_minor(*, seconds: int, rate_minor_per_minute: int, billing_mode: str) -> int:
    """Per second: the exact share of the minute rate, rounded half up (never more than half a
    minor unit off). Per minute: each started minute in full."""
    if seconds <= 0:
        return 0
    if billing_mode == PricingPolicy.BillingMode.PER_MINUTE:
        return -(-seconds // 60) * rate_minor_per_minute
    return (seconds * rate_minor_per_minute * 2 + 60) // 120


def seconds_covered(*, amount_minor: int, rate_minor_per_minute: int, billing_mode: str) -> int:
    """How many seconds of talk `amount_minor` pays for (the inverse of charge_minor)."""
    if rate_minor_per_minute <= 0:
        return 10**9
    if billing_mode == PricingPolicy.BillingMode.PER_MINUTE:
        return (amount_minor // rate_minor_per_minute) * 60
    seconds = (amount_minor * 60) // rate_minor_per_minute
    while (
        charge_minor(
            seconds=seconds + 1,
            rate_minor_per_minute=rate_minor_per_minute,
            billing_mode=billing_mode,
        )
        <= amount_minor
    ):
        seconds += 1
    return seconds


def split(*, amount_minor: int, advisor_share_bps: int, callrix_fee_bps: int) -> Split:
    """Advisor and Callrix shares rounded half up; the licensee takes the remainder, so the
    parts always add up to the amount exactly."""
    advisor = (amount_minor * advisor_share_bps * 2 + 10_000) // 20_000
    callrix = (amount_minor * callrix_fee_bps * 2 + 10_000) // 20_000
    callrix = min(callrix, amount_minor - advisor)
    return Split(
        advisor_minor=advisor,
        licensee_minor=amount_minor - advisor - callrix,
        callrix_minor=callrix,
    )
