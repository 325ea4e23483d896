"""Advisors: the people end users pay to talk to, with their profile, rates and presence."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q


class SessionKind(models.TextChoices):
    """What a paid session carries: all are billed the same way, from presence in the
    session's LiveKit room; only the media granted differ."""

    VOICE = "voice"
    VIDEO = "video"
    CHAT = "chat"


SESSION_KINDS: tuple[str, ...] = tuple(SessionKind.values)


def voice_only() -> list[str]:
    return [SessionKind.VOICE.value]


class Advisor(models.Model):
    class Status(models.TextChoices):
        ONLINE = "online"
        BUSY = "busy"  # in a call (set by the platform, never by the advisor)
        OFFLINE = "offline"

    # DO_NOTHING: see payments.TopUp.user — the collector must not search from public.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="advisor"
    )
    display_name = models.CharField(max_length=120)
    headline = models.CharField(max_length=200, blank=True)
    bio = models.TextField(blank=True, max_length=5_000)
    categories = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    languages = ArrayField(models.CharField(max_length=8), default=list, blank=True)
    photo_url = models.URLField(blank=True)
    rate_minor_per_minute = models.PositiveIntegerField()  # voice
    chat_rate_minor_per_minute = models.PositiveIntegerField(null=True, blank=True)
    video_rate_minor_per_minute = models.PositiveIntegerField(null=True, blank=True)
    # The kinds of session offered; each has its rate above.
    kinds = ArrayField(models.CharField(max_length=8), default=voice_only)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OFFLINE)
    suspended = models.BooleanField(default=False)
    suspended_reason = models.CharField(max_length=300, blank=True)
    rating_sum = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)
    missed_in_row = models.PositiveIntegerField(default=0)
    favorites_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="advisor_rate_positive", condition=Q(rate_minor_per_minute__gt=0)
            ),
            models.CheckConstraint(
                name="advisor_kinds_valid",
                condition=Q(kinds__len__gte=1) & Q(kinds__contained_by=list(SESSION_KINDS)),
            ),
            models.CheckConstraint(
                name="advisor_chat_has_rate",
                condition=~Q(kinds__contains=["chat"])
                | Q(chat_rate_minor_per_minute__isnull=False, chat_rate_minor_per_minute__gt=0),
            ),
            models.CheckConstraint(
                name="advisor_video_has_rate",
                condition=~Q(kinds__contains=["video"])
                | Q(video_rate_minor_per_minute__isnull=False, video_rate_minor_per_minute__gt=0),
            ),
            models.CheckConstraint(
                name="advisor_status_valid", condition=Q(status__in=["online", "busy", "offline"])
            ),
        ]
        indexes = [models.Index(fields=["status", "suspended"])]

    def __str__(self) -> str:
        return self.display_name

    def rate_for(self, kind: str) -> int | None:
        """The per-minute rate of a kind of session, None when it is not offered."""
        if kind not in self.kinds:
            return None
        rates: dict[str, int | None] = {
            "voice": self.rate_minor_per_minute,
            "chat": self.chat_rate_minor_per_minute,
            "video": self.video_rate_minor_per_minute,
        }
        return rates.get(kind)

    @property
    def rates(self) -> dict[str, int]:
        offered = {kind: self.rate_for(kind) for kind in SESSION_KINDS}
        return {kind: rate for kind, rate in offered.items() if rate is not None}

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None


class Favorite(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="favorites"
    )
    advisor = models.ForeignKey(Advisor, on_delete=models.CASCADE, related_name="favorited_by")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "advisor"], name="favorite_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ {self.advisor_id}"


class AdvisorApplication(models.Model):
    """Someone applying on the licensee's host to advise there; an admin approves (the
    advisor account is created and invited) or rejects it, audited and e-mailed."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"

    email = models.EmailField()
    display_name = models.CharField(max_length=120)
    headline = models.CharField(max_length=200, blank=True)
    bio = models.TextField(blank=True, max_length=5_000)
    categories = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    languages = ArrayField(models.CharField(max_length=8), default=list, blank=True)
    rate_minor_per_minute = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by_id = models.BigIntegerField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    advisor = models.ForeignKey(Advisor, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(status="pending"),
                name="advisor_application_one_pending_per_email",
            ),
            models.CheckConstraint(
                name="advisor_application_rate_positive", condition=Q(rate_minor_per_minute__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"application {self.pk} ({self.status})"


class CommissionOverride(models.Model):
    """An advisor's own share of each call instead of the licensee-wide one: a fixed share,
    or tiers by the talk minutes the advisor settled this calendar month (UTC)."""

    advisor = models.OneToOneField(Advisor, on_delete=models.CASCADE, related_name="commission")
    fixed_bps = models.PositiveIntegerField(null=True, blank=True)
    # [[from_minutes, share_bps], ...], ascending by minutes; the highest reached applies.
    tiers = models.JSONField(default=list, blank=True)
    set_by_id = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="commission_fixed_within_whole",
                condition=Q(fixed_bps__isnull=True) | Q(fixed_bps__lte=10_000),
            ),
        ]

    def __str__(self) -> str:
        return f"commission of advisor {self.advisor_id}"

    def share_bps(self, month_minutes: int) -> int | None:
        if self.fixed_bps is not None:
            return self.fixed_bps
        reached = [bps for minutes, bps in self.tiers if month_minutes >= minutes]
        return reached[-1] if reached else None
