from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from identity.models import User
from tenant_apps.appointments.models import LIVE_STATUSES, AdvisorSchedule, Appointment


def schedule_get(*, advisor_id: int) -> AdvisorSchedule | None:
    return AdvisorSchedule.objects.filter(advisor_id=advisor_id).prefetch_related("windows").first()


def schedule_zone(*, advisor_id: int) -> str:
    """The advisor's time zone, in which their slots are shown."""
    schedule = AdvisorSchedule.objects.filter(advisor_id=advisor_id).first()
    return schedule.time_zone if schedule else "UTC"


def booked_ranges(
    *, advisor_id: int, since: datetime, until: datetime
) -> list[tuple[datetime, datetime]]:
    """When the advisor is booked (for a slot picker): times only, never who booked."""
    return list(
        Appointment.objects.filter(
            advisor_id=advisor_id,
            status__in=LIVE_STATUSES,
            ends_at__gt=since,
            starts_at__lt=until,
        )
        .order_by("starts_at")
        .values_list("starts_at", "ends_at")
    )


def appointments_for_party(*, user: User) -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(Q(caller=user) | Q(advisor__user=user))
        .select_related("advisor", "caller")
        .order_by("starts_at", "id")
    )


def appointments_for_licensee() -> QuerySet[Appointment]:
    return Appointment.objects.select_related("advisor", "caller").order_by("-starts_at", "-id")


def open_slots(
    *, advisor_id: int, now: datetime, days: int = 7, minutes: int = 30, limit: int = 60
) -> list[datetime]:
    """Start times (UTC) of free `minutes`-long slots in the advisor's next `days` days, on
    the half hour, inside their availability and clear of bookings (for the slot picker)."""
    schedule = schedule_get(advisor_id=advisor_id)
    if schedule is None:
        return []
    zone = ZoneInfo(schedule.time_zone)
    windows = list(schedule.windows.all())
    taken = booked_ranges(advisor_id=advisor_id, since=now, until=now + timedelta(days=days + 1))
    length = timedelta(minutes=minutes)
    today = now.astimezone(zone).date()
    slots: list[datetime] = []
    for offset in range(days + 1):
        day = today + timedelta(days=offset)
        todays = sorted((w for w in windows if w.weekday == day.weekday()), key=lambda w: w.starts)
        for window in todays:
            start = datetime.combine(day, window.starts, tzinfo=zone)
            end = datetime.combine(day, window.ends, tzinfo=zone)
            while start + length <= end:
                clash = any(start < b_end and b_start < start + length for b_start, b_end in taken)
                if start > now and not clash:
                    slots.append(start.astimezone(UTC))
                    if len(slots) >= limit:
                        return slots
                start += timedelta(minutes=30)
    return slots
