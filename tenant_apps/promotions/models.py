"""Promotion codes a licensee's admins hand out: a bonus on a top-up (a percentage of it or a
fixed amount) or free seconds on a caller's first session with an advisor. Every use is a
row here and, for money, a posting from the licensee's promotion-credit ledger account."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper


class Promotion(models.Model):
    class Kind(models.TextChoices):
        TOPUP_PERCENT = "topup_percent"
        TOPUP_FIXED = "topup_fixed"
        FIRST_SESSION_SECONDS = "first_session_seconds"

    code = models.CharField(max_length=40, unique=True)  # upper case, as typed codes are
    kind = models.CharField(max_length=24, choices=Kind.choices)
    percent = models.PositiveSmallIntegerField(null=True, blank=True)
    amount_minor = models.PositiveIntegerField(null=True, blank=True)
    free_seconds = models.PositiveIntegerField(null=True, blank=True)
    max_uses_per_user = models.PositiveIntegerField(default=1)
    max_uses_total = models.PositiveIntegerField(null=True, blank=True)  # None: no limit
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="promotion_kind_has_its_value",
                condition=(
                    Q(kind="topup_percent", percent__gte=1, percent__lte=100)
                    | Q(kind="topup_fixed", amount_minor__gte=1)
                    | Q(kind="first_session_seconds", free_seconds__gte=1)
                ),
            ),
            models.CheckConstraint(
                name="promotion_window_forward",
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
            ),
            models.CheckConstraint(
                name="promotion_limits_positive",
                condition=Q(max_uses_per_user__gte=1)
                & (Q(max_uses_total__isnull=True) | Q(max_uses_total__gte=1)),
            ),
            models.CheckConstraint(name="promotion_code_upper", condition=Q(code=Upper("code"))),
        ]

    def __str__(self) -> str:
        return self.code


class PromotionUse(models.Model):
    """One redemption. A top-up's is `pending` until Stripe says it was paid (then
    `credited`) or failed (`released`, and the use counts no more); a session's until the
    session is settled (`credited` with what its free seconds were worth, or `released` when
    nothing was talked). Either way `bonus_minor` is what promotion credit paid; refunds and
    erasure may take part of a top-up's bonus back (`reclaimed_minor`)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        CREDITED = "credited"
        RELEASED = "released"

    promotion = models.ForeignKey(Promotion, on_delete=models.DO_NOTHING, related_name="uses")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="promotion_uses"
    )
    topup_id = models.BigIntegerField(null=True, blank=True, unique=True)
    call_id = models.BigIntegerField(null=True, blank=True, unique=True)
    bonus_minor = models.PositiveIntegerField(default=0)
    free_seconds = models.PositiveIntegerField(default=0)
    reclaimed_minor = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="promotion_use_for_one_thing",
                condition=Q(topup_id__isnull=False, call_id__isnull=True)
                | Q(topup_id__isnull=True, call_id__isnull=False),
            ),
            models.CheckConstraint(
                name="promotion_use_reclaims_at_most_its_bonus",
                condition=Q(reclaimed_minor__lte=F("bonus_minor")),
            ),
        ]
        indexes = [models.Index(fields=["promotion", "user"])]

    def __str__(self) -> str:
        return f"{self.promotion_id} by {self.user_id} ({self.status})"
