"""Calls between an end user and an advisor, billed per second of talk (docs/architecture.md §5).

Talk is the time both parties are in the LiveKit room. It is kept as closed segments
(`talk_seconds_closed`) plus the open one (`segment_started_at`), so a dropped party's gap is
never billed. Times come from LiveKit's own event timestamps, not from when we received them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenant_apps.advisors.models import SESSION_KINDS, SessionKind

OPEN_STATUSES = ["ringing", "connected"]


class Call(models.Model):
    class Status(models.TextChoices):
        RINGING = "ringing"
        CONNECTED = "connected"  # accepted; talk runs while both are in the room
        COMPLETED = "completed"
        MISSED = "missed"
        DECLINED = "declined"
        CANCELLED = "cancelled"

    # DO_NOTHING: see payments.TopUp.user — the collector must not search from public.
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="calls_made"
    )
    advisor = models.ForeignKey(
        "advisors.Advisor", on_delete=models.DO_NOTHING, related_name="calls"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RINGING)
    # What the session carries (voice, video or chat); billed alike, from room presence.
    kind = models.CharField(max_length=8, choices=SessionKind.choices, default=SessionKind.VOICE)
    room_name = models.CharField(max_length=120, unique=True, null=True)
    # The terms the call runs on, fixed when it is requested.
    rate_minor_per_minute = models.PositiveIntegerField()
    billing_mode = models.CharField(max_length=12)
    free_seconds = models.PositiveIntegerField(default=0)
    # Of those, the ones a promotion code gives (a first session's free seconds): promotion
    # credit pays for them at settlement, so the licensee's books show what the code cost.
    promotion_seconds = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3)
    held_minor = models.PositiveIntegerField(default=0)
    hold_extensions = models.PositiveIntegerField(default=0)
    # Lifecycle
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)
    # Presence and talk
    caller_present = models.BooleanField(default=False)
    advisor_present = models.BooleanField(default=False)
    caller_seen_at = models.DateTimeField(null=True, blank=True)  # last event about the caller
    advisor_seen_at = models.DateTimeField(null=True, blank=True)
    talk_started_at = models.DateTimeField(null=True, blank=True)
    segment_started_at = models.DateTimeField(null=True, blank=True)
    talk_seconds_closed = models.PositiveIntegerField(default=0)
    absent_since = models.DateTimeField(null=True, blank=True)  # a party dropped mid-call
    last_seen_both_at = models.DateTimeField(null=True, blank=True)
    low_funds_warned_at = models.DateTimeField(null=True, blank=True)
    # When the call next needs its billing job (hold refill, warning, end of credit, end of
    # grace): the one pending job carries this moment, so a superseded job knows it is stale.
    billing_due_at = models.DateTimeField(null=True, blank=True)
    # Settlement
    talk_seconds = models.PositiveIntegerField(default=0)
    cost_minor = models.PositiveIntegerField(default=0)  # what the caller paid
    promotion_minor = models.PositiveIntegerField(default=0)  # what promotion credit paid
    advisor_minor = models.PositiveIntegerField(default=0)
    licensee_minor = models.PositiveIntegerField(default=0)
    callrix_minor = models.PositiveIntegerField(default=0)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One open call per advisor and per caller: the database settles any race.
            models.UniqueConstraint(
                fields=["advisor"],
                condition=Q(status__in=OPEN_STATUSES),
                name="call_one_open_per_advisor",
            ),
            models.UniqueConstraint(
                fields=["caller"],
                condition=Q(status__in=OPEN_STATUSES),
                name="call_one_open_per_caller",
            ),
            models.CheckConstraint(
                name="call_kind_valid", condition=Q(kind__in=list(SESSION_KINDS))
            ),
            models.CheckConstraint(
                name="call_cost_within_hold",
                condition=Q(settled_at__isnull=True) | Q(cost_minor__lte=models.F("held_minor")),
            ),
            models.CheckConstraint(
                name="call_split_adds_up",
                condition=Q(settled_at__isnull=True)
                | Q(
                    cost_minor=models.F("advisor_minor")
                    + models.F("licensee_minor")
                    + models.F("callrix_minor")
                    - models.F("promotion_minor")
                ),
            ),
            models.CheckConstraint(
                name="call_promotion_seconds_are_free",
                condition=Q(promotion_seconds__lte=models.F("free_seconds")),
            ),
        ]
        indexes = [
            models.Index(fields=["caller", "-created_at"]),
            models.Index(fields=["advisor", "-created_at"]),
            models.Index(fields=["status"]),
            models.Index(
                fields=["billing_due_at"],
                condition=Q(status="connected"),
                name="call_billing_due",
            ),
        ]

    def __str__(self) -> str:
        return f"call {self.pk} ({self.status})"


class LiveKitEvent(models.Model):
    """A LiveKit webhook applied once, by its id — or what the reconciler saw in the room
    when webhooks were lost (`source="reconciler"`). A call's talk time is replayed from
    these in the order they happened, whatever order they arrived in."""

    event_id = models.CharField(max_length=100, unique=True)
    event = models.CharField(max_length=40)
    room_name = models.CharField(max_length=120, db_index=True)
    participant_identity = models.CharField(max_length=120, blank=True)
    source = models.CharField(max_length=16, default="webhook")
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=120, blank=True)

    def __str__(self) -> str:
        return f"{self.event} {self.event_id}"


class SpendingCap(models.Model):
    """A caller's own limit on what calls may cost per calendar month."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="spending_cap"
    )
    monthly_limit_minor = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.monthly_limit_minor}/month"


class Review(models.Model):
    call = models.OneToOneField(Call, on_delete=models.DO_NOTHING, related_name="review")
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="reviews"
    )
    advisor = models.ForeignKey(
        "advisors.Advisor", on_delete=models.DO_NOTHING, related_name="reviews"
    )
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, max_length=2_000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="review_rating_1_to_5", condition=Q(rating__gte=1, rating__lte=5)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ for call {self.call_id}"


class ChatMessage(models.Model):
    """A message of a chat session, stored as well as sent over the room's data channel, so
    the session has a history, the end user's export and erasure cover it, and the
    retention rule (calls.services.chat) deletes it once its time is up."""

    call = models.ForeignKey(Call, on_delete=models.DO_NOTHING, related_name="messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="chat_messages"
    )
    text = models.TextField(max_length=2_000)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)  # by the other party

    class Meta:
        constraints = [
            models.CheckConstraint(name="chat_message_not_empty", condition=~Q(text="")),
        ]
        indexes = [models.Index(fields=["call", "id"])]

    def __str__(self) -> str:
        return f"message {self.pk} in call {self.call_id}"


class QueueEntry(models.Model):
    """An end user waiting in line for a busy advisor. When the advisor is free, the first in
    line is offered the session for a short window (the advisor stays reserved for them),
    then the next."""

    class Status(models.TextChoices):
        WAITING = "waiting"
        OFFERED = "offered"
        ACCEPTED = "accepted"  # the offered caller started the session
        LEFT = "left"
        EXPIRED = "expired"  # the offer ran out
        SKIPPED = "skipped"  # not enough credit when offered

    advisor = models.ForeignKey(
        "advisors.Advisor", on_delete=models.DO_NOTHING, related_name="queue"
    )
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="queue_entries"
    )
    kind = models.CharField(max_length=8, choices=SessionKind.choices, default=SessionKind.VOICE)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(auto_now_add=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    call = models.ForeignKey(Call, on_delete=models.DO_NOTHING, null=True, blank=True)

    class Meta:
        constraints = [
            # In one line at a time, and one offer per advisor at a time.
            models.UniqueConstraint(
                fields=["caller"],
                condition=Q(status__in=["waiting", "offered"]),
                name="queue_one_place_per_caller",
            ),
            models.UniqueConstraint(
                fields=["advisor"],
                condition=Q(status="offered"),
                name="queue_one_offer_per_advisor",
            ),
            models.CheckConstraint(
                name="queue_offer_has_window",
                condition=~Q(status="offered") | Q(offer_expires_at__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["advisor", "status", "id"])]

    def __str__(self) -> str:
        return f"{self.caller_id} waiting for {self.advisor_id} ({self.status})"
