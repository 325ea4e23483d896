"""Reads for the licensee dashboard: the overview's numbers and the filtered lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from identity.models import User
from tenant_apps.calls.models import Call
from tenant_apps.dashboard.models import AuditEntry

PERIODS = (7, 30, 90)
LIVE_STATUSES = (Call.Status.RINGING, Call.Status.CONNECTED)


@dataclass(frozen=True)
class Period:
    days: int
    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=UTC)

    def day_list(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(self.days)]


def period_for(days: int, *, today: date | None = None) -> Period:
    today = today or timezone.now().date()
    return Period(days=days, first_day=today - timedelta(days=days - 1), last_day=today)


def _per_day(rows, field: str) -> dict[date, int]:
    return {row["day"]: int(row[field] or 0) for row in rows}


def overview_get(*, period: Period) -> dict:
    """Totals and day-by-day series over the period (UTC days), and the top advisors."""
    settled = Call.objects.filter(settled_at__gte=period.start, settled_at__lt=period.end)
    money = (
        settled.annotate(day=TruncDate("settled_at", tzinfo=UTC))
        .values("day")
        .annotate(revenue=Sum("cost_minor"), talk=Sum("talk_seconds"))
    )
    calls = (
        Call.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(calls=Count("id"))
    )
    users = (
        User.objects.filter(
            role=User.Role.END_USER, date_joined__gte=period.start, date_joined__lt=period.end
        )
        .annotate(day=TruncDate("date_joined", tzinfo=UTC))
        .values("day")
        .annotate(users=Count("id"))
    )
    money_rows = list(money)
    revenue, talk = _per_day(money_rows, "revenue"), _per_day(money_rows, "talk")
    call_counts, user_counts = _per_day(calls, "calls"), _per_day(users, "users")
    days = period.day_list()
    series = [
        {
            "day": day,
            "revenue_minor": revenue.get(day, 0),
            "talk_minutes": round(talk.get(day, 0) / 60, 1),
            "calls": call_counts.get(day, 0),
            "new_users": user_counts.get(day, 0),
        }
        for day in days
    ]
    totals = settled.aggregate(
        revenue=Sum("cost_minor"), licensee=Sum("licensee_minor"), talk=Sum("talk_seconds")
    )
    return {
        "series": series,
        "revenue_minor": int(totals["revenue"] or 0),
        "licensee_minor": int(totals["licensee"] or 0),
        "talk_minutes": round(int(totals["talk"] or 0) / 60, 1),
        "calls": sum(call_counts.values()),
        "new_users": sum(user_counts.values()),
        "live_calls": Call.objects.filter(status__in=LIVE_STATUSES).count(),
        "top_advisors": top_advisors(period=period),
    }


def top_advisors(*, period: Period, limit: int = 5) -> list[dict]:
    rows = (
        Call.objects.filter(settled_at__gte=period.start, settled_at__lt=period.end)
        .values("advisor_id", "advisor__display_name")
        .annotate(revenue=Sum("cost_minor"), talk=Sum("talk_seconds"), calls=Count("id"))
        .order_by("-revenue", "advisor__display_name")[:limit]
    )
    return [
        {
            "advisor_id": row["advisor_id"],
            "name": row["advisor__display_name"],
            "revenue_minor": int(row["revenue"] or 0),
            "talk_minutes": round(int(row["talk"] or 0) / 60, 1),
            "calls": row["calls"],
        }
        for row in rows
    ]


def calls_admin(
    *,
    status: str | None = None,
    advisor_id: int | None = None,
    caller_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
    live: bool = False,
) -> QuerySet[Call]:
    calls = Call.objects.select_related("advisor", "caller").order_by("-created_at", "-id")
    if live:
        calls = calls.filter(status__in=LIVE_STATUSES)
    if status:
        calls = calls.filter(status=status)
    if advisor_id:
        calls = calls.filter(advisor_id=advisor_id)
    if caller_id:
        calls = calls.filter(caller_id=caller_id)
    if since:
        calls = calls.filter(created_at__gte=datetime.combine(since, time.min, tzinfo=UTC))
    if until:
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC)
        calls = calls.filter(created_at__lt=end)
    return calls


def team_members() -> QuerySet[User]:
    return User.objects.filter(role__in=[User.Role.OWNER, User.Role.ADMIN]).order_by(
        "role", "email"
    )


def audit_entries(*, action: str | None = None) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.select_related("actor").order_by("-created_at", "-id")
    if action:
        entries = entries.filter(action=action)
    return entries


def end_user_get(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, role=User.Role.END_USER).first()
