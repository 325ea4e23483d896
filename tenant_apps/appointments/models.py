"""Booked sessions: an advisor's weekly availability (in their own time zone) and the
appointments end users book in it. Two bookings of one advisor, or of one caller, can never
overlap: exclusion constraints in the database settle any race."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import F, Func, Q

from tenant_apps.advisors.models import SessionKind

LIVE_STATUSES = ["booked", "started"]


class AdvisorSchedule(models.Model):
    advisor = models.OneToOneField(
        "advisors.Advisor", on_delete=models.DO_NOTHING, related_name="schedule"
    )
    time_zone = models.CharField(max_length=64, default="UTC")  # an IANA name
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.advisor_id} ({self.time_zone})"


class AvailabilityWindow(models.Model):
    """Every week on `weekday` (0 = Monday) from `starts` to `ends`, advisor's local time."""

    schedule = models.ForeignKey(AdvisorSchedule, on_delete=models.CASCADE, related_name="windows")
    weekday = models.PositiveSmallIntegerField()
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(name="availability_weekday", condition=Q(weekday__lte=6)),
            models.CheckConstraint(name="availability_forward", condition=Q(ends__gt=F("starts"))),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.starts}-{self.ends}"


class TimeRange(Func):
    function = "TSTZRANGE"
    output_field = models.DateTimeField()  # only ever compared inside the constraint


class IdRange(Func):
    """The id as a one-point range: GiST compares ranges with `=` out of the box, so the
    exclusion constraint needs no btree_gist extension (which would live in one schema)."""

    function = "INT8RANGE"
    template = "%(function)s(%(expressions)s, '[]')"
    output_field = models.BigIntegerField()


class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked"
        STARTED = "started"  # rang at its time: the session is a call now
        CANCELLED = "cancelled"

    advisor = models.ForeignKey(
        "advisors.Advisor", on_delete=models.DO_NOTHING, related_name="appointments"
    )
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="appointments"
    )
    kind = models.CharField(max_length=8, choices=SessionKind.choices, default=SessionKind.VOICE)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    rate_minor_per_minute = models.PositiveIntegerField()
    held_minor = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    reminded_at = models.DateTimeField(null=True, blank=True)
    call_id_started = models.BigIntegerField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="appointment_forward", condition=Q(ends_at__gt=F("starts_at"))
            ),
            ExclusionConstraint(
                name="appointment_no_advisor_clash",
                expressions=[
                    (IdRange("advisor_id", "advisor_id"), RangeOperators.EQUAL),
                    (TimeRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=LIVE_STATUSES),
            ),
            ExclusionConstraint(
                name="appointment_no_caller_clash",
                expressions=[
                    (IdRange("caller_id", "caller_id"), RangeOperators.EQUAL),
                    (TimeRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=LIVE_STATUSES),
            ),
        ]
        indexes = [models.Index(fields=["status", "starts_at"])]

    def __str__(self) -> str:
        return f"appointment {self.pk} ({self.status})"
