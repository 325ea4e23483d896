"""The licensee's billing policy for calls: how talk is priced and how its revenue is split."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class PricingPolicy(models.Model):
    """At most one row per schema; `pricing.selectors.policy_get()` gives defaults without."""

    class BillingMode(models.TextChoices):
        PER_SECOND = "per_second"
        PER_MINUTE = "per_minute"  # each started minute is charged in full

    class ClosedAccountBalance(models.TextChoices):
        # The credit stays the former user's, to be paid back (from their top-ups).
        REFUND = "refund"
        # The licensee's terms say unused credit lapses when the account is closed.
        FORFEIT = "forfeit"

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    billing_mode = models.CharField(
        max_length=12, choices=BillingMode.choices, default=BillingMode.PER_SECOND
    )
    # Advisors' per-minute rates must lie within these bounds (minor units).
    min_rate_minor = models.PositiveIntegerField(default=50)
    max_rate_minor = models.PositiveIntegerField(default=2_000)
    # Free talk for a caller's first call with an advisor; counts only once talk starts.
    intro_free_seconds = models.PositiveIntegerField(default=0)
    # A caller needs funds for this many minutes to start a call (the first hold).
    minimum_minutes = models.PositiveIntegerField(default=2)
    ring_timeout_seconds = models.PositiveIntegerField(default=30)
    # A dropped party may rejoin within this time; the gap is not billed.
    grace_seconds = models.PositiveIntegerField(default=60)
    low_funds_warning_seconds = models.PositiveIntegerField(default=60)
    # Shares of each call's charge, in basis points (1/100 of a percent). The licensee keeps
    # the rest. Callrix's fee comes from the licensee's plan.
    advisor_share_bps = models.PositiveIntegerField(default=6_000)
    callrix_fee_bps = models.PositiveIntegerField(default=1_000)
    # Missed calls in a row after which an advisor is set offline (0 = never).
    offline_after_missed = models.PositiveIntegerField(default=3)
    # What happens to a wallet's credit when its owner erases the account (an account erased
    # because it belongs to a minor is always refunded, whatever this says).
    closed_account_balance = models.CharField(
        max_length=8, choices=ClosedAccountBalance.choices, default=ClosedAccountBalance.REFUND
    )
    # Video sessions on this platform at all (advisors' video rates stay, unused, while off).
    video_enabled = models.BooleanField(default=True)
    # A booked session can be cancelled (its held credit released) until this many hours
    # before it starts.
    appointment_cancel_hours = models.PositiveIntegerField(default=24)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="pricing_singleton", condition=Q(singleton=True)),
            models.CheckConstraint(
                name="pricing_rate_bounds", condition=Q(min_rate_minor__lte=F("max_rate_minor"))
            ),
            models.CheckConstraint(
                name="pricing_shares_within_whole",
                condition=Q(advisor_share_bps__lte=10_000 - F("callrix_fee_bps")),
            ),
            models.CheckConstraint(
                name="pricing_minimum_positive", condition=Q(minimum_minutes__gte=1)
            ),
            models.CheckConstraint(
                name="pricing_closed_account_balance_valid",
                condition=Q(closed_account_balance__in=["refund", "forfeit"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.billing_mode}, {self.advisor_share_bps / 100:.0f}% to advisors"
