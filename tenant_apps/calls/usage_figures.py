"""What Callrix counts of a licensee's day (privacy policy §2.3): numbers only, never a row
that identifies anyone. Read by Callrix's metering through `tenants.hooks`."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Sum

from identity.models import User
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls.models import Call


def usage_day_counts(*, start: datetime, end: datetime) -> dict[str, int]:
    """As at `end`: advisors not suspended and active end users who had joined by then, and
    the calls that ended in [start, end) with their talk."""
    advisors = Advisor.objects.filter(created_at__lt=end, suspended=False).count()
    end_users = User.objects.filter(role="end_user", is_active=True, date_joined__lt=end).count()
    calls = Call.objects.filter(
        status=Call.Status.COMPLETED, ended_at__gte=start, ended_at__lt=end
    ).aggregate(count=Count("id"), talk=Sum("talk_seconds"))
    return {
        "advisors": advisors,
        "end_users": end_users,
        "calls": calls["count"],
        "talk_seconds": calls["talk"] or 0,
    }
