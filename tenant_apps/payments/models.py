"""The licensee's own Stripe account and the money that comes in through it. The licensee is
the merchant of record for its end users (docs/architecture.md §6)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class StripeConnection(models.Model):
    """The licensee's Stripe keys, encrypted at rest; at most one row per schema."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    secret_key_encrypted = models.TextField()
    publishable_key = models.CharField(max_length=255)
    webhook_secret_encrypted = models.TextField()
    # The signing secret of the licensee's Connect endpoint (`/webhooks/stripe/connect`):
    # Stripe signs connected accounts' events with that endpoint's own secret. Empty until
    # the admin gives it; the Connect endpoint refuses everything meanwhile.
    connect_webhook_secret_encrypted = models.TextField(blank=True, default="")
    account_id = models.CharField(max_length=255)
    account_name = models.CharField(max_length=255, blank=True)
    livemode = models.BooleanField(default=False)
    connected_by_id = models.BigIntegerField(null=True)
    connected_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="stripe_connection_singleton", condition=Q(singleton=True))
        ]

    def __str__(self) -> str:
        return self.account_id


class TopUpPolicy(models.Model):
    """The licensee's limits for one top-up; at most one row per schema (defaults apply)."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    min_amount_minor = models.PositiveIntegerField(default=500)
    max_amount_minor = models.PositiveIntegerField(default=50_000)

    class Meta:
        constraints = [
            models.CheckConstraint(name="topup_policy_singleton", condition=Q(singleton=True)),
            models.CheckConstraint(
                name="topup_policy_min_le_max",
                condition=Q(min_amount_minor__lte=models.F("max_amount_minor")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.min_amount_minor}..{self.max_amount_minor}"


class TopUpPackage(models.Model):
    """A fixed top-up the licensee offers, e.g. "€20 + €2 bonus"."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    amount_minor = models.PositiveIntegerField()
    bonus_minor = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(name="package_amount_positive", condition=Q(amount_minor__gt=0))
        ]

    def __str__(self) -> str:
        return self.name


class TopUp(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled"

    # DO_NOTHING: Django's delete collector must not look for these rows from the public
    # schema (no such table there); the database FK still refuses to orphan them.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="topups"
    )
    package = models.ForeignKey(TopUpPackage, on_delete=models.SET_NULL, null=True, blank=True)
    amount_minor = models.PositiveIntegerField()
    bonus_minor = models.PositiveIntegerField(default=0)
    # A promotion code's bonus (tenant_apps.promotions), posted from promotion credit.
    promotion_bonus_minor = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    payment_intent_id = models.CharField(max_length=255, unique=True, null=True)
    client_secret = models.CharField(max_length=255, blank=True)
    charge_id = models.CharField(max_length=255, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    refunded_minor = models.PositiveIntegerField(default=0)
    # The part of the bonus refunds took back so far (see `payments.services._book_refund`).
    bonus_reclaimed_minor = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="topup_amount_positive", condition=Q(amount_minor__gt=0)),
            models.CheckConstraint(
                name="topup_refund_within_amount",
                condition=Q(refunded_minor__lte=models.F("amount_minor")),
            ),
            models.CheckConstraint(
                name="topup_bonus_reclaim_within_bonus",
                condition=Q(bonus_reclaimed_minor__lte=models.F("bonus_minor")),
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"top-up {self.pk} ({self.status})"


class Refund(models.Model):
    """A refund the licensee's admin made through Stripe, with who and why.

    Also the outbox of the Stripe call: booked and committed (pending) before Stripe is asked,
    outside any lock; Stripe's answer settles it (succeeded, or failed with the booking
    reversed); a pending one whose answer never came is asked again with the same
    idempotency key (`services.refunds_pending_retry`)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    topup = models.ForeignKey(TopUp, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.PositiveIntegerField()
    # The top-up's refunded total this refund brings it to: the key of its booking and of
    # the Stripe call.
    refunded_total_minor = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=500)
    requested_by_id = models.BigIntegerField()
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUCCEEDED)
    failure_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"refund {self.stripe_refund_id}"


class CreditGrant(models.Model):
    """Goodwill credit an admin gave a user, with who and why."""

    # DO_NOTHING: Django's delete collector must not look for these rows from the public
    # schema (no such table there); the database FK still refuses to orphan them.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="credit_grants"
    )
    amount_minor = models.PositiveIntegerField()
    reason = models.CharField(max_length=500)
    granted_by_id = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"credit {self.pk}"


class Dispute(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        WON = "won"
        LOST = "lost"

    topup = models.ForeignKey(TopUp, on_delete=models.PROTECT, related_name="disputes")
    stripe_dispute_id = models.CharField(max_length=255, unique=True)
    amount_minor = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.stripe_dispute_id


class StripeEvent(models.Model):
    """Each verified webhook event, stored once by its id and processed by a job."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    # The connected account (`acct_…`) of an event received at the Connect endpoint; empty
    # for the licensee's own account's events.
    account = models.CharField(max_length=255, blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
