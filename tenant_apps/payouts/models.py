"""Advisor payouts: the licensee's payout policy, each advisor's Stripe Connect Express account
(and any hold an admin put on it), and every payout made or tried (docs/architecture.md §6).

Money itself lives in the ledger: a payout moves the advisor's earnings to the licensee's
PAYOUTS account in the same database transaction that records the `Payout` row.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

# Ledger transaction kinds of payouts: money out to PAYOUTS, and back when a transfer is
# refused (`payout_return`) or reversed by the licensee (`payout_reversal`).
LEDGER_PAYOUT = "payout"
LEDGER_PAYOUT_RETURN = "payout_return"
LEDGER_PAYOUT_REVERSAL = "payout_reversal"
PAYOUT_LEDGER_KINDS = (LEDGER_PAYOUT, LEDGER_PAYOUT_RETURN, LEDGER_PAYOUT_REVERSAL)


class PayoutPolicy(models.Model):
    """When and how advisors are paid; at most one row per schema (defaults apply)."""

    class Schedule(models.TextChoices):
        DAILY = "daily"
        WEEKLY = "weekly"  # ISO weeks, from Monday
        MONTHLY = "monthly"

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    schedule = models.CharField(max_length=8, choices=Schedule.choices, default=Schedule.WEEKLY)
    minimum_amount_minor = models.PositiveIntegerField(default=1_000)
    # Earnings from a call become payable this many days after it, so that refunds and
    # disputes of the caller's payment can still land before the money leaves.
    clearing_days = models.PositiveSmallIntegerField(default=7)
    # The period whose scheduled run has been done (see `periods.period_key`).
    last_run_period = models.CharField(max_length=40, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="payout_policy_singleton", condition=Q(singleton=True)),
            models.CheckConstraint(
                name="payout_policy_schedule_valid",
                condition=Q(schedule__in=["daily", "weekly", "monthly"]),
            ),
            models.CheckConstraint(
                name="payout_policy_minimum_positive", condition=Q(minimum_amount_minor__gt=0)
            ),
            models.CheckConstraint(
                name="payout_policy_clearing_days_range", condition=Q(clearing_days__lte=90)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule}, from {self.minimum_amount_minor}"


class PayoutAccount(models.Model):
    """An advisor's payout state: their Express account on the licensee's Stripe, as its
    `account.updated` webhooks last described it, and an admin's hold. Its row is also the
    per-advisor lock every payout takes."""

    advisor = models.OneToOneField(
        "advisors.Advisor", on_delete=models.PROTECT, related_name="payout_account"
    )
    stripe_account_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    details_submitted = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    requirements = ArrayField(models.CharField(max_length=120), default=list, blank=True)
    disabled_reason = models.CharField(max_length=120, blank=True)
    # When Stripe produced the state we hold: an older event arriving late changes nothing.
    stripe_state_at = models.DateTimeField(null=True, blank=True)
    held = models.BooleanField(default=False)
    hold_reason = models.CharField(max_length=300, blank=True)
    held_by_id = models.BigIntegerField(null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="payout_hold_has_reason", condition=Q(held=False) | ~Q(hold_reason="")
            ),
        ]

    def __str__(self) -> str:
        return f"payouts of advisor {self.advisor_id}"


class Payout(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"  # money moved to PAYOUTS; the Stripe transfer is being made
        PAID = "paid"
        FAILED = "failed"  # no transfer; the earnings are back (or never left)
        REVERSED = "reversed"  # the licensee reversed the whole transfer; earnings restored

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule"
        REQUEST = "request"  # the advisor asked for it

    advisor = models.ForeignKey(
        "advisors.Advisor", on_delete=models.PROTECT, related_name="payouts"
    )
    # The schedule's period ("2026-W49") or the advisor's n-th request ("request-3"): an
    # advisor is paid at most once per key, whatever runs at the same time.
    period_key = models.CharField(max_length=40)
    trigger = models.CharField(max_length=8, choices=Trigger.choices)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    # Each try after a refusal is a new attempt with its own Stripe idempotency key.
    attempts = models.PositiveIntegerField(default=0)
    destination_account_id = models.CharField(max_length=255, blank=True)
    stripe_transfer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    failure_code = models.CharField(max_length=60, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    reversed_minor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["advisor", "period_key"], name="payout_once_per_advisor_period"
            ),
            models.CheckConstraint(name="payout_amount_positive", condition=Q(amount_minor__gt=0)),
            models.CheckConstraint(
                name="payout_status_valid",
                condition=Q(status__in=["pending", "paid", "failed", "reversed"]),
            ),
            models.CheckConstraint(
                name="payout_paid_has_transfer",
                condition=~Q(status__in=["paid", "reversed"]) | Q(stripe_transfer_id__isnull=False),
            ),
            models.CheckConstraint(
                name="payout_reversal_within_amount",
                condition=Q(reversed_minor__gte=0)
                & Q(reversed_minor__lte=models.F("amount_minor")),
            ),
        ]
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["advisor", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"payout {self.pk} ({self.status})"
